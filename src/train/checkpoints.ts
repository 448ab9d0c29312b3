import { firstNonFinite } from '../data/validate.js';
import type { Checkpoint, Network } from '../nn/network.js';

/**
 * A fit's CPU copies of parameters and optimizer state: the last finite one, which divergence and device loss
 * roll back to, and the one being read. The network's `recovery` follows the last finite one, so a device lost
 * under any fit on the engine brings this network back to it.
 */
export class Checkpoints {
  private pending: Promise<Checkpoint> | null = null;

  private constructor(
    private readonly net: Network,
    private last: Checkpoint,
  ) {
    net.recovery = last;
  }

  /** Starts with a checkpoint of the network as it is (step 0 of the fit). */
  static async start(net: Network): Promise<Checkpoints> {
    return new Checkpoints(net, await net.checkpoint(0));
  }

  /** The last finite checkpoint. */
  get good(): Checkpoint {
    return this.last;
  }

  /** Whether a read is under way. */
  get reading(): boolean {
    return this.pending !== null;
  }

  /** Starts reading a checkpoint at `step` when none is being read and `every` steps have passed since the last. */
  maybeRead(step: number, every: number): void {
    if (!this.pending && step - this.last.step >= every) {
      this.pending = this.net.checkpoint(step);
      // Awaited by settle(), or dropped: failing before then is not an unhandled rejection.
      this.pending.catch(() => {});
    }
  }

  /** Waits for the read under way; keeps it if every parameter is finite. */
  async settle(): Promise<void> {
    if (!this.pending) return;
    const c = await this.pending;
    this.pending = null;
    if (c.params.every((p) => firstNonFinite(p.weight) < 0 && firstNonFinite(p.bias) < 0)) {
      this.last = c;
      this.net.recovery = c;
    }
  }

  /** Forgets the read under way (its device may be gone), letting it fail quietly. */
  drop(): void {
    this.pending = null;
  }

  /** The fit is over: a later device loss has nothing of it to restore. */
  end(): void {
    this.drop();
    if (this.net.recovery === this.last) this.net.recovery = null;
  }
}
