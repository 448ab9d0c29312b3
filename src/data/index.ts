export { type CsvDataset, type CsvOptions, parseCsv } from './csv.js';
export { type Dataset, splitDataset, subset } from './dataset.js';
export { loadMnist, MNIST_PIXELS } from './mnist.js';
export { circles, moons, type SyntheticOptions, twoSpirals, xor, xorTable } from './synthetic.js';
