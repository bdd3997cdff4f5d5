import { describe, expect, it } from 'vitest';
import { classAccuracies, confusionMatrix, outcomesOf } from '../../src/store/confusion';

const labels = ['apple', 'boy', 'girl'];
const outcomes = [
  { sample: 0, truth: 'apple', predicted: 'apple' },
  { sample: 1, truth: 'apple', predicted: 'girl' },
  { sample: 2, truth: 'boy', predicted: 'girl' },
  { sample: 3, truth: 'boy', predicted: 'girl' },
  { sample: 4, truth: 'girl', predicted: 'girl' },
];

describe('built-in check summaries', () => {
  it('counts each outcome in its truth row and predicted column', () => {
    expect(confusionMatrix(labels, outcomes)).toEqual([
      [1, 0, 1],
      [0, 0, 2],
      [0, 0, 1],
    ]);
  });

  it('lists per-class accuracy worst first', () => {
    expect(classAccuracies(labels, outcomes)).toEqual([
      { label: 'boy', correct: 0, total: 2 },
      { label: 'apple', correct: 1, total: 2 },
      { label: 'girl', correct: 1, total: 1 },
    ]);
  });

  it('finds the images behind a cell or a whole class', () => {
    expect(outcomesOf(outcomes, 'boy', 'girl').map((o) => o.sample)).toEqual([2, 3]);
    expect(outcomesOf(outcomes, 'apple').map((o) => o.sample)).toEqual([0, 1]);
    expect(outcomesOf(outcomes, 'girl', 'boy')).toEqual([]);
  });
});
