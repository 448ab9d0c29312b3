// Where a small training step's wall time goes, in Node (Dawn through the npm package `webgpu`) and in headless
// Chromium, on the same adapter: bench/page/overhead.ts runs in both. In Node it also reads, per loop, the CPU
// time of each thread of the process (/proc) and counts the setImmediate callbacks that dawn.node schedules to
// poll for GPU events, so a wait that burns the main thread, or starves the GPU's worker threads, shows up.
//
//   npx tsx bench/overhead.ts [--cases=16-16-2x16,784-256-256-10x64] [--budget-ms=1000] [--where=node,chromium]
//                             [--poll=immediate|timeout] [--out=FILE]
//
// --poll=timeout is an experiment: Node's setImmediate is replaced by setTimeout(fn, 0) (1 ms) for the whole
// process, so dawn.node polls once a millisecond instead of on every turn of the event loop.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OverheadCase, OverheadPhase, OverheadResult } from './page/overhead.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const TICK_MS = 10; // USER_HZ is 100 on Linux: /proc counts CPU time in 10 ms ticks

interface Args {
  cases: OverheadCase[];
  budgetMs: number;
  where: ('node' | 'chromium')[];
  poll: 'immediate' | 'timeout';
  out: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    cases: parseCases('16-16-2x16,784-256-256-10x16,784-256-256-10x64'),
    budgetMs: 1000,
    where: ['node', 'chromium'],
    poll: 'immediate',
    out: join(benchDir, 'results', 'overhead-latest.json'),
  };
  for (const arg of argv) {
    const [flag, value = ''] = arg.split('=', 2);
    if (flag === '--cases') args.cases = parseCases(value);
    else if (flag === '--budget-ms') args.budgetMs = Number(value);
    else if (flag === '--where') args.where = value.split(',') as Args['where'];
    else if (flag === '--poll' && (value === 'immediate' || value === 'timeout')) args.poll = value;
    else if (flag === '--out') args.out = value;
    else throw new Error(`unknown option '${arg}' (see the comment at the top of bench/overhead.ts)`);
  }
  if (!(args.budgetMs > 0)) throw new Error('--budget-ms must be a positive number');
  if (args.where.some((w) => w !== 'node' && w !== 'chromium')) throw new Error('--where: node and/or chromium');
  return args;
}

/** '784-256-256-10x64' -> layer sizes and batch. */
function parseCases(value: string): OverheadCase[] {
  return value.split(',').map((spec) => {
    const [layers, batch] = spec.split('x');
    const sizes = layers.split('-').map(Number);
    if (sizes.length < 2 || sizes.some((n) => !(n > 0)) || !(Number(batch) > 0)) {
      throw new Error(`--cases: expected sizes x batch such as 784-256-256-10x64, got '${spec}'`);
    }
    return { sizes, batch: Number(batch) };
  });
}

/** CPU ms so far of every thread of this process, by thread id, with the thread's name. */
function threadCpu(): Map<string, { name: string; ms: number }> {
  const out = new Map<string, { name: string; ms: number }>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 once pid and comm are cut off.
      out.set(tid, { name: stat.slice(stat.indexOf('(') + 1, close), ms: (+fields[11] + +fields[12]) * TICK_MS });
    } catch {
      // The thread ended between readdir and read.
    }
  }
  return out;
}

/** One loop's wall time and CPU time (summed over its rounds where it runs more than once). */
interface PhaseCpu {
  wallMs: number;
  /** CPU ms of the main (JavaScript) thread, and of all other threads. */
  mainMs: number;
  othersMs: number;
  /** The other threads' CPU by thread name, ms. */
  byName: Record<string, number>;
  /** setImmediate callbacks scheduled during the loop (dawn.node polls for GPU events with them). */
  immediates: number;
}

/**
 * Counts setImmediate calls: dawn.node looks the global up each time it schedules a poll. With `timeout`,
 * defers them by setTimeout(fn, 0) instead (the --poll=timeout experiment).
 */
function countImmediates(timeout: boolean): { count: () => number } {
  let n = 0;
  const original = globalThis.setImmediate;
  const counting = (...args: Parameters<typeof setImmediate>) => {
    n++;
    if (timeout) {
      const [fn, ...rest] = args;
      setTimeout(() => fn(...(rest as [])), 0);
      return undefined as unknown as NodeJS.Immediate;
    }
    return original(...args);
  };
  globalThis.setImmediate = Object.assign(counting, original) as typeof setImmediate;
  return { count: () => n };
}

async function runNode(args: Args) {
  const { createEngine } = await import('../src/node.js');
  const { measureOverhead } = await import('./page/overhead.js');
  const engine = await createEngine();
  const immediates = countImmediates(args.poll === 'timeout');
  const results: (OverheadResult & { cpu: Partial<Record<OverheadPhase, PhaseCpu>> })[] = [];
  try {
    for (const c of args.cases) {
      const cpu: Partial<Record<OverheadPhase, PhaseCpu>> = {};
      let last: { phase: OverheadPhase; at: number; threads: ReturnType<typeof threadCpu>; imm: number } | null = null;
      const onPhase = (phase: OverheadPhase) => {
        const now = { phase, at: performance.now(), threads: threadCpu(), imm: immediates.count() };
        if (last) cpu[last.phase] = phaseCpu(last, now, cpu[last.phase]);
        last = now;
      };
      const r = await measureOverhead(engine.device, { ...c, budgetMs: args.budgetMs, onPhase });
      results.push({ ...r, cpu });
      console.error(`  node ${c.sizes.join('-')} x${c.batch}: ${r.pipelinedMs} ms/step pipelined`);
    }
    return { adapter: engine.adapter, results };
  } finally {
    engine.destroy();
  }
}

function phaseCpu(
  a: { at: number; threads: ReturnType<typeof threadCpu>; imm: number },
  b: { at: number; threads: ReturnType<typeof threadCpu>; imm: number },
  sum: PhaseCpu = { wallMs: 0, mainMs: 0, othersMs: 0, byName: {}, immediates: 0 },
): PhaseCpu {
  const main = String(process.pid);
  const out = { ...sum, byName: { ...sum.byName } };
  out.wallMs += b.at - a.at;
  out.immediates += b.imm - a.imm;
  for (const [tid, t] of b.threads) {
    const ms = t.ms - (a.threads.get(tid)?.ms ?? 0);
    if (tid === main) out.mainMs += ms;
    else if (ms > 0) {
      out.othersMs += ms;
      out.byName[t.name] = (out.byName[t.name] ?? 0) + ms;
    }
  }
  return out;
}

async function runChromium(args: Args) {
  // @ts-expect-error plain JavaScript helper shared with the benchmark and the browser tests
  const { launchBrowser, startViteServer } = await import('../scripts/browser.js');
  const server = await startViteServer({ root: benchDir });
  const browser = await launchBrowser({ webgpu: true, protocolTimeout: 20 * 60_000 });
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e: unknown) => console.error(`[page] ${e instanceof Error ? e.message : e}`));
    await page.goto(server.url, { waitUntil: 'load' });
    await page.waitForFunction(() => '__bench' in window, { timeout: 60_000 });
    const adapter = await page.evaluate(() => window.__bench.adapterReport());
    const results: OverheadResult[] = [];
    for (const c of args.cases) {
      const r: OverheadResult = await page.evaluate((cc: OverheadCase) => window.__bench.overhead(cc), {
        ...c,
        budgetMs: args.budgetMs,
      });
      results.push(r);
      console.error(`  chromium ${c.sizes.join('-')} x${c.batch}: ${r.pipelinedMs} ms/step pipelined`);
    }
    return { adapter, browser: await browser.version(), results };
  } finally {
    await browser.close();
    await server.close();
  }
}

const COLUMNS = [
  ['pipelinedMs', 'pipelined'],
  ['syncedMs', 'synced'],
  ['recordMs', 'record'],
  ['submitMs', 'submit'],
  ['waitMs', 'wait'],
  ['mappedMs', 'mapped'],
  ['kernelMs', 'kernel'],
  ['polledSpanMs', 'span polled'],
  ['quietSpanMs', 'span quiet'],
  ['groupsMs', 'groups'],
  ['groupsLateMs', 'groups late'],
  ['fitMs', 'fit'],
  ['fitOneMs', 'fit 1/submit'],
] as const;

function printRows(rows: [string, OverheadResult][]): void {
  const header = ['case', ...COLUMNS.map(([, title]) => title)];
  const cells = rows.map(([where, r]) => [
    `${where} ${r.sizes.join('-')} x${r.batch}`,
    ...COLUMNS.map(([key]) => (r[key] == null ? '-' : String(r[key]))),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((x, i) => (i ? x.padStart(widths[i]) : x.padEnd(widths[i]))).join('  ');
  console.log(
    `\nms per training step (record, submit, wait, kernel: medians; see bench/page/overhead.ts)\n${line(header)}`,
  );
  for (const c of cells) console.log(line(c));
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const report: Record<string, unknown> = { date: new Date().toISOString(), budgetMs: args.budgetMs, poll: args.poll };
  const rows: [string, OverheadResult][] = [];
  // Node first: loading the page and Chromium's own processes would otherwise run beside it.
  if (args.where.includes('node')) {
    const node = await runNode(args);
    report.node = node;
    rows.push(...node.results.map((r) => ['node', r] as [string, OverheadResult]));
  }
  if (args.where.includes('chromium')) {
    const chromium = await runChromium(args);
    report.chromium = chromium;
    rows.push(...chromium.results.map((r) => ['chromium', r] as [string, OverheadResult]));
  }
  printRows(rows.sort((a, b) => a[1].sizes.join().localeCompare(b[1].sizes.join()) || a[1].batch - b[1].batch));
  const node = report.node as Awaited<ReturnType<typeof runNode>> | undefined;
  for (const r of node?.results ?? []) {
    console.log(`\nnode ${r.sizes.join('-')} x${r.batch}, CPU per wall ms by loop (main thread / other threads):`);
    for (const [phase, p] of Object.entries(r.cpu)) {
      const top = Object.entries(p.byName)
        .sort((x, y) => y[1] - x[1])
        .slice(0, 3)
        .map(([name, ms]) => `${name} ${ms} ms`)
        .join(', ');
      console.log(
        `  ${phase.padEnd(11)} ${(p.mainMs / p.wallMs).toFixed(2)} / ${(p.othersMs / p.wallMs).toFixed(2)} ` +
          `over ${Math.round(p.wallMs)} ms, ${Math.round(p.immediates / p.wallMs)} setImmediate/ms; ` +
          top,
      );
    }
  }
  mkdirSync(dirname(args.out), { recursive: true });
  writeFileSync(args.out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\n-> ${args.out}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
