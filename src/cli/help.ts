import { ACTIVATIONS, LOSSES } from '../api.js';
import { OPTIMIZERS, SCHEDULES } from './options.js';

const OPTIMIZER_NAMES = OPTIMIZERS.join(', ');
const SCHEDULE_NAMES = SCHEDULES.join(', ');

/** `webgrad --help`. */
export const HELP = `Usage: webgrad train [options]
       webgrad predict --model FILE --dataset FILE.csv [--json | --out FILE]
       webgrad evaluate --model FILE --dataset FILE.csv [--json]

train trains a multilayer perceptron on the GPU through WebGPU (SwiftShader, a
software renderer, where there is no GPU), prints progress per epoch and the
result on held-out rows. Every option has a default that suits the dataset.
predict applies a saved model to the rows of a CSV file, with the preprocessing
saved in it; evaluate scores it on a CSV file that has the label column(s).

Data
  --dataset NAME|FILE    mnist (default), spiral, moons, circles, xor, or a CSV
                         file: feature and label column(s); a comma,
                         semicolon or tab separator and a header line are
                         detected. Numeric features (and regression targets)
                         are standardised with the training rows' statistics;
                         a column where fewer than half the cells are numbers
                         is text, one-hot encoded (one 0/1 input per category
                         of the training rows; an unseen category is all 0).
                         Rows without a label are left out
  --label-column COLS    CSV label column(s): header names or 0-based indices
                         (negative counts from the end; default: the last);
                         several (price,rent) train a multi-output regressor
  --task NAME            classification or regression. Default: classification
                         when the label column holds text or few distinct
                         integers, regression otherwise; the first line says
                         which and why. Class labels may be any text or numbers
  --impute NAME          fill missing CSV cells (empty, NA, NaN, ?) with the
                         training rows' mean or median (text columns: the most
                         frequent category); without it a missing feature is
                         an error that names its line and column
  --samples N            points to generate for the 2-D sets (default 2000 for
                         spiral, 1000 otherwise); training digits for mnist
                         (default: all 7,996); not for CSV files
  --test-fraction F      share held out for the final test, 0 < F < 1
                         (default 0.2; mnist has a fixed 2,004-digit test set)
  --test-file FILE       a CSV file to test on instead of a random split
  --validation-fraction F  share of the training rows used for validation
                         after each epoch, 0 <= F < 1 (default 0.1; 0 trains
                         on them all and turns early stopping off)
  --patience N           stop when the validation loss has not improved for N
                         epochs and keep the best epoch's weights (default 20
                         for CSV files, 0 = off, off for the built-in sets)

Model
  --sizes LIST           layer widths, e.g. 784,128,10 or just the hidden ones,
                         128 or 64,64 (the input and output sizes come from the
                         data). Default: 784,128,10 for mnist, 2,64,64,64,2 for
                         spiral, 2,32,32,2 for the other 2-D sets, in,64,out
                         for CSV
  --activations LIST     one per layer, or one per hidden layer (the output layer
                         then gets identity), or one name for every hidden layer:
                         ${ACTIVATIONS.slice(0, 5).join(', ')},
                         ${ACTIVATIONS.slice(5).join(', ')} (default relu)
  --loss NAME            ${LOSSES.join(', ')}
                         (default cross_entropy for classes, mse for regression;
                         the other two train classes on one-hot targets)

Training
  --optimizer NAME       ${OPTIMIZER_NAMES} (default adam)
  --lr X                 learning rate (default 0.001 for mnist and CSV, 0.02
                         for spiral, 0.01 for the other 2-D sets; 0.1 with sgd)
  --momentum X           sgd momentum (default 0.9)
  --weight-decay X       L2 penalty (sgd, adam) or decoupled decay (adamw)
                         (default 0)
  --schedule NAME        ${SCHEDULE_NAMES} learning-rate schedule
                         (default cosine)
  --warmup N             linear warmup steps before the schedule (default 0)
  --batch-size N         rows per step, 1 and up; batches larger than one
                         dispatch holds are split on the GPU (default 64 for
                         mnist and spiral, 32 otherwise)
  --epochs N             passes over the training data (default 5 for mnist,
                         10 for spiral, 8 for the other 2-D sets; for CSV
                         enough for about 1,500 steps, from 20 to 500 epochs,
                         early stopping ending most runs sooner)
  --seed N               seed for the data, initial weights and shuffling
                         (default 0)

Output
  --out FILE             train: save the trained model (and its preprocessing)
                         as safetensors; predict: write the predictions as CSV
  --json                 one JSON object per line instead of text. train: per
                         epoch {epoch, loss, accuracy, valLoss, valAccuracy,
                         samplesPerSec} (regression: rmse, mae, r2, valRmse,
                         valMae, valR2 instead of the accuracies), then the
                         held-out result {testLoss, testAccuracy (regression:
                         testRmse, testMae, testR2), testSamples, seconds,
                         samplesPerSec, aborted, ...}; predict: one object
                         per row {line, prediction, probabilities}
  --no-progress          plain lines instead of progress bars (the default when
                         stdout is not a terminal)
  --check-gradients      train: before training, compare the GPU's gradients on 64
                         training rows with float64 central differences, print
                         the worst relative error per layer, and stop (exit 1)
                         if any is past the tolerance
  -h, --help             show this help
  -v, --version          show the version

predict and evaluate
  --model FILE           a model saved by train --out, or a PyTorch
                         nn.Sequential state_dict saved with safetensors (give
                         --activations, one per Linear layer, and --loss)
  --dataset FILE         the CSV rows to predict or score; columns are matched
                         by the header names saved with the model

Examples
  webgrad train
  webgrad train --dataset spiral --batch-size 256 --epochs 30
  webgrad train --dataset iris.csv --label-column species --out iris.safetensors
  webgrad train --dataset houses.csv --label-column price,rent --impute median
  webgrad predict --model iris.safetensors --dataset new.csv --out predictions.csv
  webgrad evaluate --model iris.safetensors --dataset labelled.csv

Ctrl-C stops after the current step, still reports the test accuracy and saves
--out; a second Ctrl-C quits at once.

Exit status: 0 done, 1 failed (no WebGPU adapter, bad data or model file),
2 bad options, 130 stopped by Ctrl-C.
`;
