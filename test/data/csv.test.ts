import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/data/index.js';

describe('parseCsv', () => {
  it('reads a header, quoted fields and CRLF', () => {
    const ds = parseCsv(
      '\ufeffwidth,"height, cm",kind\r\n1,2,"cat, big"\r\n 3 , "4" ,dog\r\n5,6e1,"cat, big"\r\n\r\n\r\n',
    );
    expect(ds.featureNames).toEqual(['width', 'height, cm']);
    expect(ds.labels).toEqual(['cat, big', 'dog']);
    expect(Array.from(ds.x)).toEqual([1, 2, 3, 4, 5, 60]);
    expect(Array.from(ds.y)).toEqual([0, 1, 0]);
    expect([ds.n, ds.inputs, ds.classes]).toEqual([3, 2, 2]);
  });

  it('handles escaped quotes and newlines inside quotes', () => {
    const ds = parseCsv('a,label\n1,"say ""hi""\nthere"\n2,plain');
    expect(ds.labels).toEqual(['say "hi"\nthere', 'plain']);
    expect(ds.n).toBe(2);
  });

  it('reads headerless numeric data and orders integer labels numerically', () => {
    const ds = parseCsv('0.5,1,3\n1.5,2,1\n2.5,3,2\n3.5,4,03\n');
    expect(ds.featureNames).toEqual(['col0', 'col1']);
    expect(ds.labels).toEqual(['1', '2', '3']);
    expect(Array.from(ds.y)).toEqual([2, 0, 1, 2]);
    expect(ds.x).toBeInstanceOf(Float32Array);
    expect(Array.from(ds.x)).toEqual([0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4]);
  });

  it('detects a header unless told', () => {
    expect(parseCsv('x,y,label\n1,2,a').n).toBe(1);
    expect(parseCsv('1,2,a\n3,4,b').n).toBe(2);
    expect(parseCsv('1,2,3\n3,4,5', { header: true }).featureNames).toEqual(['1', '2']);
    expect(() => parseCsv('x,y,label\n1,2,a', { header: false })).toThrow(TypeError);
  });

  it('picks the label column by name or index', () => {
    const text = 'kind,a,b\ncat,1,2\ndog,3,4\n';
    const byName = parseCsv(text, { labelColumn: 'kind' });
    const byIndex = parseCsv(text, { labelColumn: 0 });
    expect(byName).toEqual(byIndex);
    expect(byName.featureNames).toEqual(['a', 'b']);
    expect(Array.from(byName.x)).toEqual([1, 2, 3, 4]);
    expect(parseCsv('1,7,2\n3,8,4', { labelColumn: -2 }).labels).toEqual(['7', '8']);
    expect(() => parseCsv(text, { labelColumn: 'colour' })).toThrow(/no column "colour"; columns: kind, a, b/);
    expect(() => parseCsv(text, { labelColumn: 3 })).toThrow(RangeError);
  });

  it('names the line and column of bad rows', () => {
    expect(() => parseCsv('a,b,c\n1,2,x\n3,4\n')).toThrow(new RangeError('CSV line 3: expected 3 fields, found 2'));
    expect(() => parseCsv('a,b,c\n1,2,x\n\n3,oops,y\n')).toThrow(
      new TypeError('CSV line 4, column 2 ("b"): "oops" is not a finite number'),
    );
    expect(() => parseCsv('1,2,x\n3,,y')).toThrow(new TypeError('CSV line 2, column 2: "" is not a finite number'));
    expect(() => parseCsv('a,b\n1,"2\n')).toThrow(SyntaxError);
    expect(() => parseCsv('\n\n')).toThrow(RangeError);
  });
});
