import { type Activations, allocateActivations } from './activations.js';
import { roundUp } from './layout.js';
import { buildPlan, type PassShape, type Plan, type PlanTarget } from './plan.js';

/**
 * A network's activation buffers and the plans bound to them: plans are made on first use of a shape and
 * reused (the 16 most recent kept); buffers grow to the largest pass and drop the plans bound to the old ones.
 */
export class PlanCache {
  private act: Activations | null = null;
  private plans = new Map<string, Plan>();

  constructor(
    private readonly net: PlanTarget,
    private readonly maxRows: number,
    /** Rows the first activation buffers are made for, at least (MlpOptions.batchSize). */
    private readonly firstRows = 1,
  ) {}

  /** The plan of a pass, with activation buffers for at least its rows. */
  get(shape: PassShape): { plan: Plan; act: Activations } {
    const act = this.reserve(shape.rows);
    const key = `${shape.rows}/${shape.total}/${Number(shape.accumulate)}/${shape.source?.id ?? 0}`;
    let plan = this.plans.get(key);
    if (!plan) {
      if (this.plans.size >= 16) {
        const [oldest, old] = this.plans.entries().next().value as [string, Plan];
        this.net.runtime.releaseBuffer(old.uniforms);
        this.plans.delete(oldest);
      }
      plan = buildPlan(this.net, act, shape);
      this.plans.set(key, plan);
    }
    return { plan, act };
  }

  /** Activation buffers for at least `rows` rows (made before recording, so recording allocates nothing). */
  reserve(rows: number): Activations {
    if (this.act && this.act.capacity >= rows) return this.act;
    if (!this.act) rows = Math.min(Math.max(rows, this.firstRows), this.maxRows);
    this.release();
    const runtime = this.net.runtime;
    const capacity = Math.min(roundUp(rows, runtime.matmul.rows), Math.max(rows, this.maxRows));
    this.act = allocateActivations(runtime, this.net.layers, this.net.loss, capacity);
    return this.act;
  }

  /** Frees the buffers and plans. */
  release(): void {
    for (const plan of this.plans.values()) this.net.runtime.releaseBuffer(plan.uniforms);
    if (this.act) for (const b of this.act.owned) this.net.runtime.releaseBuffer(b);
    this.forget();
  }

  /** Forgets buffers and plans that died with a lost device. */
  forget(): void {
    this.plans.clear();
    this.act = null;
  }
}
