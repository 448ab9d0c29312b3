import { describe, expect, it } from 'vitest';
import { readTable } from '../../src/data/table.js';
import { chooseTask, classNames, readTabular, splitTabular } from '../../src/data/tabular.js';

const ints = (values: number[]) => values.map(String);

describe('chooseTask', () => {
  it('takes text and few distinct integers as classes', () => {
    expect(chooseTask(['setosa', 'virginica', 'setosa'])).toMatchObject({ task: 'classification' });
    expect(chooseTask(ints(Array.from({ length: 100 }, (_, i) => [3, 5, 7][i % 3])))).toEqual({
      task: 'classification',
      reason: 'it holds 3 distinct integers',
    });
    expect(chooseTask(['0.0', '1.0', '1.0', '0.0', 'NA'])).toMatchObject({ task: 'classification' });
  });

  it('takes fractions and many distinct integers as regression, saying why', () => {
    expect(chooseTask(['1.5', '2', '3'])).toEqual({
      task: 'regression',
      reason: 'it holds numbers with a fraction (1.5)',
    });
    const scores = Array.from({ length: 400 }, (_, i) => `${25 + ((i * 37) % 300)}.0`);
    expect(chooseTask(scores)).toMatchObject({
      task: 'regression',
      reason: expect.stringMatching(/300 distinct integers/),
    });
    // Few rows: 16 distinct weights in 20 rows are no classes.
    expect(chooseTask(ints(Array.from({ length: 20 }, (_, i) => 150 + (i % 16)))).task).toBe('regression');
  });
});

describe('readTabular', () => {
  it('reads features and string labels, choosing classification', () => {
    const d = readTabular(readTable('a,b,kind\n1,2,cat\n3,4,dog\n5,6,cat\n'));
    expect(d.task).toBe('classification');
    expect(d.features).toEqual(['a', 'b']);
    expect(d.labels).toEqual(['kind']);
    expect(Array.from(d.x)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(d.classLabels).toEqual(['cat', 'dog', 'cat']);
    expect(d.lines).toEqual([2, 3, 4]);
  });

  it('reads several label columns as a multi-output regression', () => {
    const d = readTabular(readTable('price,x,rent\n100,1,10\n200,2,20\n'), { labelColumns: ['price', 'rent'] });
    expect(d.task).toBe('regression');
    expect(d.features).toEqual(['x']);
    expect(Array.from(d.targets!)).toEqual([100, 10, 200, 20]);
    expect(() => readTabular(readTable('a,b\n1,2'), { labelColumns: ['a', 'b'] })).toThrow(/no features/);
    expect(() => readTabular(readTable('a,b,c\n1,2,3'), { labelColumns: ['b', 'c'], task: 'classification' })).toThrow(
      /classification takes one label column, got 2/,
    );
  });

  it('keeps missing feature cells as NaN with impute, and names them without', () => {
    const text = 'a,b,y\n1,NA,0\n,2,1\n3,4,0\n';
    const d = readTabular(readTable(text), { impute: 'mean' });
    expect(Array.from(d.x)).toEqual([1, Number.NaN, Number.NaN, 2, 3, 4]);
    expect(() => readTabular(readTable(text))).toThrow(
      new TypeError(
        'CSV line 2, column 2 ("b"): the feature is missing ("NA"); fill missing cells with --impute mean|median',
      ),
    );
  });

  it('names the line, column and cell of text among features', () => {
    expect(() => readTabular(readTable('a,b,y\n1,2,0\n3,x7,1\n'))).toThrow(
      new TypeError(
        'CSV line 3, column 2 ("b"): "x7" is not a number ' +
          "(at least half of the column's cells are numbers, so every one must be)",
      ),
    );
    expect(() => readTabular(readTable('a,y\n1,1.5\n2,abc\n'), { task: 'regression' })).toThrow(
      /CSV line 3, column 2 \("y"\): "abc" is not a number \(a target must be one\)/,
    );
    expect(() => readTabular(readTable('a,y\n1,2\n'), { labelColumns: ['y', 'y'] })).toThrow(/given twice/);
  });

  it('reads a feature column of text as text cells, beside numeric ones', () => {
    const d = readTabular(readTable('size,colour,big,y\n1,red,yes,0\n2, blue ,no,1\n3,NA,no,0\n4,red,yes,1\n'), {
      impute: 'mean',
    });
    expect(d.features).toEqual(['size', 'colour', 'big']);
    expect(d.text).toEqual([null, ['red', 'blue', '', 'red'], ['yes', 'no', 'no', 'yes']]);
    expect(Array.from(d.x)).toEqual([1, NaN, NaN, 2, NaN, NaN, 3, NaN, NaN, 4, NaN, NaN]);
    // Rows split with their text.
    const { train, test } = splitTabular(d, 0.5, 1);
    for (const part of [train, test]) {
      expect(part.text![1]).toEqual(part.lines.map((l) => d.text![1]![l - 2]));
      expect(part.text![0]).toBe(null);
    }
    expect(readTabular(readTable('a,y\n1,0\n2,1\n')).text).toBeUndefined();
  });

  it('takes a column as text when fewer than half its present cells are numbers', () => {
    // 1 number in 3 present cells: text, and "3" is a category like the others.
    expect(readTabular(readTable('a,y\nS,0\nM,1\n3,0\nNA,1\n'), { impute: 'mean' }).text).toEqual([
      ['S', 'M', '3', ''],
    ]);
    // 2 numbers in 4 cells: a numeric column with a stray word, refused where the word is.
    expect(() => readTabular(readTable('a,y\n1,0\nM,1\n3,0\nL,1\n'))).toThrow(
      /^CSV line 3, column 1 \("a"\): "M" is not a number \(at least half of the column's cells are numbers/,
    );
    // Decimal commas count as numbers with a semicolon separator.
    expect(() => readTabular(readTable('a;y\n1,5;0\n2,5;1\nM;0\n'))).toThrow(/line 4, column 1 \("a"\): "M"/);
  });

  it('names a missing text cell as it names a missing number, unless impute is given', () => {
    expect(() => readTabular(readTable('a,colour,y\n1,red,0\n2,blue,1\n3,?,0\n'))).toThrow(
      new TypeError(
        'CSV line 4, column 2 ("colour"): the feature is missing ("?"); fill missing cells with --impute mean|median',
      ),
    );
  });

  it('leaves out rows whose label is missing, and counts them', () => {
    const d = readTabular(readTable('a,y\n1,cat\n2,\n3,dog\n4,NA\n5,cat\n'));
    expect(d.droppedRows).toBe(2);
    expect(d.n).toBe(3);
    expect(Array.from(d.x)).toEqual([1, 3, 5]);
    expect(d.classLabels).toEqual(['cat', 'dog', 'cat']);
    expect(d.lines).toEqual([2, 4, 6]);
    // The task is chosen from the labels that are there.
    expect(readTabular(readTable('a,y\n1,1.5\n2,NA\n3,2.5\n'))).toMatchObject({ task: 'regression', n: 2 });
    expect(readTabular(readTable('a,y\n1,2\n')).droppedRows).toBe(0);
  });

  it('leaves out a row when any of several label cells is missing; none left is an error', () => {
    const d = readTabular(readTable('price,x,rent\n100,1,10\n?,2,20\n300,3,\n400,4,40\n'), {
      labelColumns: ['price', 'rent'],
    });
    expect([d.n, d.droppedRows]).toEqual([2, 2]);
    expect(Array.from(d.targets!)).toEqual([100, 10, 400, 40]);
    expect(() => readTabular(readTable('a,y\n1,\n2,NA\n'))).toThrow(
      new RangeError('CSV: the label (column 2 ("y")) is missing on all 2 rows; no labelled row is left'),
    );
  });

  it('orders classes numerically or by text, and splits rows like splitDataset', () => {
    expect(classNames(['7', '3', '5', '3.0'])).toEqual(['3', '5', '7']);
    expect(classNames(['b', 'a', 'c', 'a'])).toEqual(['a', 'b', 'c']);
    const d = readTabular(readTable(`x,y\n${Array.from({ length: 10 }, (_, i) => `${i},${i % 2}`).join('\n')}`));
    const { train, test } = splitTabular(d, 0.3, 4);
    expect([train.n, test.n]).toEqual([7, 3]);
    expect([...train.x, ...test.x].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(test.lines.map((l) => d.x[l - 2])).toEqual(Array.from(test.x));
  });
});
