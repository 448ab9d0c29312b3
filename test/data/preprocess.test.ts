import { describe, expect, it } from 'vitest';
import {
  fitPreprocessing,
  inputsOf,
  predictionsOf,
  readForModel,
  targetsOf,
  targetValues,
} from '../../src/data/preprocess.js';
import { readTable } from '../../src/data/table.js';
import { readTabular, splitTabular } from '../../src/data/tabular.js';
import { decodeModel, encodeModel } from '../../src/io/model-file.js';

describe('fitPreprocessing and its use', () => {
  it('standardises features and targets with the training rows, and maps back', () => {
    const train = readTabular(readTable('a,b,y\n1,10,100\n3,10,300\n'), { task: 'regression' });
    const p = fitPreprocessing(train);
    expect(p).toEqual({
      task: 'regression',
      features: ['a', 'b'],
      mean: [2, 10],
      std: [1, 1], // b is constant: only centred
      labels: ['y'],
      targetMean: [200],
      targetStd: [100],
    });
    expect(Array.from(inputsOf(p, train))).toEqual([-1, 0, 1, 0]);
    expect(Array.from(targetsOf(p, train))).toEqual([-1, 1]);
    expect(Array.from(targetValues(p, Float32Array.of(0.5)))).toEqual([250]);
  });

  it('fills missing cells with the mean or the median of the present ones', () => {
    const data = readTabular(readTable('a,y\n1,x\n2,y\nNA,x\n9,y\n'), { impute: 'median' });
    const median = fitPreprocessing(data, { impute: 'median' });
    expect(median.fill).toEqual([2]);
    expect(median.impute).toBe('median');
    const mean = fitPreprocessing(data, { impute: 'mean' });
    expect(mean.fill).toEqual([4]);
    // The filled value stands in for the missing one, before standardising.
    expect(inputsOf(mean, data)[2]).toBeCloseTo((4 - mean.mean[0]) / mean.std[0], 6);
  });

  it('maps class labels as they come, including integers that are not 0..k-1', () => {
    const data = readTabular(readTable('x,y\n1,7\n2,3\n3,5\n4,7\n'), { task: 'classification' });
    const p = fitPreprocessing(data);
    expect(p.classes).toEqual(['3', '5', '7']);
    expect(Array.from(targetsOf(p, data))).toEqual([2, 0, 1, 2]);
    const other = readForModel(p, readTable('x,y\n1,5.0\n2,9\n'));
    expect(() => targetsOf(p, other)).toThrow(
      new RangeError('CSV line 3: the label "9" is not one of the model\'s classes (3, 5, 7)'),
    );
    const out = Float32Array.of(0.1, 0.7, 0.2, 0.6, 0.3, 0.1);
    expect(predictionsOf(p, out).classes).toEqual(['5', '3']);
  });

  it('reads another file for the model by column name, in any order, labels optional', () => {
    const p = fitPreprocessing(readTabular(readTable('a,b,kind\n1,2,cat\n3,4,dog\n')));
    const reordered = readForModel(p, readTable('id,b,a\n9,4,3\n'));
    expect(Array.from(reordered.x)).toEqual([3, 4]);
    expect(reordered.labels).toEqual([]);
    const labelled = readForModel(p, readTable('kind,a,b\ndog,3,4\n'));
    expect(labelled.classLabels).toEqual(['dog']);
    expect(() => readForModel(p, readTable('a,c\n1,2\n'))).toThrow(/no column for the model's feature "b"/);
    // Without a header: the features alone, by position.
    expect(Array.from(readForModel(p, readTable('5,6\n')).x)).toEqual([5, 6]);
    // Rows without their label are left out when labels are read (to score), kept when not (to predict).
    const scored = readForModel(p, readTable('a,b,kind\n1,2,cat\n3,4,\n5,6,dog\n'));
    expect([scored.n, scored.droppedRows, scored.classLabels]).toEqual([2, 1, ['cat', 'dog']]);
    const predicted = readForModel(p, readTable('a,b,kind\n1,2,cat\n3,4,\n5,6,dog\n'), false);
    expect([predicted.n, predicted.droppedRows, Array.from(predicted.x)]).toEqual([3, 0, [1, 2, 3, 4, 5, 6]]);
    expect(() => readForModel(p, readTable('a,b\n1,NA\n'))).toThrow(
      /CSV line 2, column 2 \("b"\): the feature is missing \("NA"\)/,
    );
  });
});

describe('one-hot encoding of text columns', () => {
  // size is numeric, colour text with 3 categories, big text with 2; the label is y.
  const csv = 'size,colour,big,y\n1,red,yes,a\n3,blue,no,b\n5,red,no,a\n7,green,no,b\n';
  const train = readTabular(readTable(csv));

  it('makes one indicator per category, sorted by text, in column order, and leaves them unscaled', () => {
    const p = fitPreprocessing(train);
    expect(p.features).toEqual(['size', 'colour=blue', 'colour=green', 'colour=red', 'big=no', 'big=yes']);
    expect(p.oneHot).toEqual([
      { column: 'colour', start: 1, categories: ['blue', 'green', 'red'] },
      { column: 'big', start: 4, categories: ['no', 'yes'] },
    ]);
    expect(p.mean).toEqual([4, 0, 0, 0, 0, 0]);
    expect(p.std[0]).toBeCloseTo(Math.sqrt(5), 12);
    expect(p.std.slice(1)).toEqual([1, 1, 1, 1, 1]);
    const s = Math.fround(3 / Math.sqrt(5));
    const q = Math.fround(1 / Math.sqrt(5));
    expect(Array.from(inputsOf(p, train))).toEqual(
      [
        [-s, 0, 0, 1, 0, 1],
        [-q, 1, 0, 0, 1, 0],
        [q, 0, 0, 1, 1, 0],
        [s, 0, 1, 0, 1, 0],
      ].flat(),
    );
  });

  it('encodes a category the training rows never held as all zeros, in files with columns in any order', () => {
    const p = fitPreprocessing(train);
    // colour is read as text whatever the file holds: "3" is an unknown category, not a number.
    const rows = readForModel(p, readTable('big,colour,size\nyes,purple,4\nno,3,4\nno, green ,4\n'), false);
    expect(rows.features).toEqual(['size', 'colour', 'big']);
    expect(Array.from(inputsOf(p, rows))).toEqual(
      [
        [0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 1, 0],
        [0, 0, 1, 0, 1, 0],
      ].flat(),
    );
    expect(() => readForModel(p, readTable('size,colour,big\n4,red,NA\n'))).toThrow(
      new TypeError(
        'CSV line 2, column 3 ("big"): the feature is missing ("NA"); fill missing cells with --impute mean|median',
      ),
    );
    expect(() => readForModel(p, readTable('size,colour,big\nfour,red,no\n'))).toThrow(
      /line 2, column 1 \("size"\): "four" is not a number \(the model reads this column as numbers\)/,
    );
  });

  it('fills a missing text cell with the most frequent category when imputing', () => {
    const data = readTabular(readTable('colour,n,y\nred,1,a\nblue,NA,b\nblue,3,a\nNA,4,b\nred,5,a\n'), {
      impute: 'median',
    });
    const p = fitPreprocessing(data, { impute: 'median' });
    // blue and red are both seen twice: the first in order wins.
    expect(p.fill).toEqual([1, 0, 3.5]);
    expect(p.impute).toBe('median');
    const x = inputsOf(p, data);
    expect(Array.from(x.subarray(9, 12))).toEqual([1, 0, Math.fround((4 - p.mean[2]) / p.std[2])]);
    // The numeric statistics are those of the filled column.
    expect(p.mean[2]).toBe((1 + 3.5 + 3 + 4 + 5) / 5);
  });

  it('survives a model file: the same inputs from the reloaded preprocessing', () => {
    const p = fitPreprocessing(train);
    const spec = { sizes: [6, 2], activations: ['identity' as const], loss: 'cross_entropy' as const };
    const params = [{ weight: new Float32Array(12), bias: new Float32Array(2) }];
    const again = decodeModel(encodeModel(spec, params, null, p)).preprocessing!;
    expect(again).toEqual(p);
    const rows = readTable('size,colour,big\n2,green,yes\n6,teal,no\n');
    expect(inputsOf(again, readForModel(again, rows))).toEqual(inputsOf(p, readForModel(p, rows)));
  });

  it('refuses rows whose columns do not match the model, and a text column with no training category', () => {
    const p = fitPreprocessing(train);
    const numeric = readTabular(readTable('size,colour,big,y\n1,2,3,a\n'));
    expect(() => inputsOf(p, numeric)).toThrow(
      new TypeError('column "colour" is one-hot encoded by the model, but the rows hold it as numbers'),
    );
    const plain = fitPreprocessing(readTabular(readTable('size,colour,big,y\n1,2,3,a\n4,5,6,b\n')));
    expect(() => inputsOf(plain, train)).toThrow(
      new TypeError('column "colour" holds text, but the model reads it as numbers'),
    );
    expect(() => inputsOf(p, readTabular(readTable('size,y\n1,a\n')))).toThrow(
      /expected rows of the model's 3 feature columns \(size, colour, big\), got 1 \(size\)/,
    );
    const sparse = readTabular(readTable('a,colour,y\n1,NA,x\n2,NA,y\n3,red,x\n'), { impute: 'mean' });
    const { train: rows } = splitTabular(sparse, 1 / 3, 0);
    const onlyMissing = { ...rows, text: [null, rows.text![1]!.map(() => '')] };
    expect(() => fitPreprocessing(onlyMissing, { impute: 'mean' })).toThrow(
      new RangeError('CSV column "colour" holds text, but every one of its training cells is missing'),
    );
    const essay = readTabular(readTable(`a,notes,y\n1,short,x\n2,${'long '.repeat(201)},y\n`));
    expect(() => fitPreprocessing(essay)).toThrow(
      /^CSV column "notes" holds text, and the category "long long .*\.\.\." is longer than 1000 characters; a column of free text cannot be one-hot encoded$/,
    );
  });
});
