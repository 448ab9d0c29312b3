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
import { readTabular } from '../../src/data/tabular.js';

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
