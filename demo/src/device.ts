import type { Trainer } from '../../src/worker/trainer.js';

const $ = (id: string) => document.getElementById(id) as HTMLElement;

/** Shows the worker's adapter and the device limits that decide how large a batch one GPU pass holds. */
export function describeDevice(t: Trainer): void {
  const a = t.adapter;
  const { limits: granted, matmul } = t.device;
  const name = [a.vendor, a.architecture].filter(Boolean).join(' ') || 'WebGPU adapter';
  $('adapter-chip').textContent = name;
  $('adapter-chip').classList.add('ok');
  $('adapter-name').textContent = [name, a.description].filter(Boolean).join(' · ');
  const mib = (b: number) => `${(b / 2 ** 20).toLocaleString('en-US', { maximumFractionDigits: 0 })} MiB`;
  const limits: [string, string][] = [
    ['Storage binding', mib(granted.maxStorageBufferBindingSize)],
    ['Buffer size', mib(granted.maxBufferSize)],
    ['Workgroups per dimension', granted.maxComputeWorkgroupsPerDimension.toLocaleString('en-US')],
    ['Invocations per workgroup', String(granted.maxComputeInvocationsPerWorkgroup)],
    ['Workgroup memory', `${granted.maxComputeWorkgroupStorageSize / 1024} KiB`],
    ['Matmul kernel', `${matmul.name} (${matmul.rows}×${matmul.cols} tiles)`],
  ];
  $('limits').innerHTML =
    limits.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('') +
    '<dt title="Larger batches run as several passes whose gradients are summed">Rows per pass (this model)</dt>' +
    '<dd id="rows-per-pass">–</dd>';
}
