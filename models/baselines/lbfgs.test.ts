import { describe, expect, it } from 'vitest';
import { minimizeLbfgs } from './lbfgs';

describe('minimizeLbfgs', () => {
  it('finds the minimum of an ill-conditioned quadratic', () => {
    const scales = [1, 10, 100, 1000];
    const target = [3, -2, 0.5, 1];
    const result = minimizeLbfgs(
      (x, grad) => {
        let f = 0;
        scales.forEach((s, i) => {
          const r = (x[i] as number) - (target[i] as number);
          f += 0.5 * s * r * r;
          grad[i] = s * r;
        });
        return f;
      },
      new Float64Array(4),
      { gtol: 1e-10, ftol: 0, maxIter: 200 },
    );
    expect(result.reason).toBe('gtol');
    result.x.forEach((v, i) => expect(v).toBeCloseTo(target[i] as number, 9));
  });

  it('minimises the Rosenbrock function', () => {
    const result = minimizeLbfgs(
      (x, grad) => {
        const [a, b] = [x[0] as number, x[1] as number];
        grad[0] = -2 * (1 - a) - 400 * a * (b - a * a);
        grad[1] = 200 * (b - a * a);
        return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
      },
      Float64Array.from([-1.2, 1]),
      { gtol: 1e-8, ftol: 0, maxIter: 500 },
    );
    expect(result.reason).toBe('gtol');
    expect(result.x[0]).toBeCloseTo(1, 6);
    expect(result.x[1]).toBeCloseTo(1, 6);
    expect(result.iterations).toBeLessThan(100);
  });

  it('stops at maxIter and says so', () => {
    const result = minimizeLbfgs(
      (x, grad) => {
        grad[0] = 4 * (x[0] as number) ** 3;
        return (x[0] as number) ** 4;
      },
      Float64Array.from([5]),
      { maxIter: 2, gtol: 1e-30, ftol: 0 },
    );
    expect(result).toMatchObject({ iterations: 2, reason: 'maxIter' });
  });
});
