import type { LayerParameters } from '../core/types.js';
import type { Network } from '../nn/network.js';

/** FitOptions.earlyStopping checked, with its defaults filled in. */
export interface ResolvedEarlyStopping {
  patience: number;
  restoreBest: boolean;
  minDelta: number;
}

/**
 * Early stopping on the validation loss: after each epoch, an improvement of more than `minDelta` on the best
 * loss so far makes that epoch the best (its parameters copied to the CPU when they are to be restored); `patience`
 * epochs in a row without one stop the fit. At the end the model gets the best epoch's parameters back (not the
 * optimizer state, as Keras' restore_best_weights).
 */
export class EarlyStopping {
  /** The epoch with the lowest validation loss so far, -1 before the first. */
  bestEpoch = -1;
  private best = Number.POSITIVE_INFINITY;
  private wait = 0;
  private bestParams: LayerParameters[] | null = null;
  private lastEpoch = -1;

  constructor(
    private readonly net: Network,
    private readonly o: ResolvedEarlyStopping,
  ) {}

  /** Takes an epoch's validation loss; resolves with whether to stop. */
  async update(epoch: number, valLoss: number): Promise<boolean> {
    this.lastEpoch = epoch;
    if (valLoss < this.best - this.o.minDelta) {
      this.best = valLoss;
      this.bestEpoch = epoch;
      this.wait = 0;
      if (this.o.restoreBest) this.bestParams = await this.net.getParameters();
      return false;
    }
    return ++this.wait >= this.o.patience;
  }

  /** Puts the best epoch's parameters back, when asked to and when the last epoch was not the best. */
  restore(): void {
    if (this.bestParams && this.bestEpoch !== this.lastEpoch) this.net.setParameters(this.bestParams, 'fit');
  }
}
