// Chromium comes from Debian's package (/usr/bin/chromium); puppeteer must not try to download its own.
module.exports = { skipDownload: true };
