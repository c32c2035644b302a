/**
 * Limited-memory BFGS for smooth unconstrained problems (Nocedal & Wright, Algorithm 7.4/7.5) with a
 * backtracking Armijo line search. Stops like scipy's L-BFGS-B: when max |gradient| ≤ gtol, or when the
 * relative decrease of f falls to ftol, or after maxIter iterations.
 */

export interface LbfgsOptions {
  /**
   * Iteration limit.
   * @default 100
   */
  maxIter?: number;
  /**
   * Converged once the largest absolute gradient component is at most this (scipy's gtol).
   * @default 0.0001
   */
  gtol?: number;
  /**
   * Stop once (f_k − f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) ≤ ftol (scipy's default factr·eps).
   * @default 2.220446049250313e-9
   */
  ftol?: number;
  /**
   * Correction pairs kept (scipy's maxcor).
   * @default 10
   */
  memory?: number;
}

/** Writes the gradient at x into grad and returns f(x). */
export type Objective = (x: Float64Array, grad: Float64Array) => number;

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  iterations: number;
  /** Why it stopped. */
  reason: 'gtol' | 'ftol' | 'maxIter' | 'lineSearch';
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

/** Two-loop recursion: direction = −H·grad from the stored (s, y) pairs, oldest first in the arrays. */
function direction(grad: Float64Array, ss: Float64Array[], ys: Float64Array[], rhos: number[]): Float64Array {
  const q = Float64Array.from(grad);
  const alphas = new Array<number>(ss.length);
  for (let m = ss.length - 1; m >= 0; m--) {
    const a = (rhos[m] as number) * dot(ss[m] as Float64Array, q);
    alphas[m] = a;
    const y = ys[m] as Float64Array;
    for (let i = 0; i < q.length; i++) q[i]! -= a * (y[i] as number);
  }
  if (ss.length > 0) {
    // initial Hessian scaling sᵀy / yᵀy from the newest pair (Nocedal & Wright eq. 7.20)
    const s = ss[ss.length - 1] as Float64Array;
    const y = ys[ys.length - 1] as Float64Array;
    const gamma = dot(s, y) / dot(y, y);
    for (let i = 0; i < q.length; i++) q[i]! *= gamma;
  }
  for (let m = 0; m < ss.length; m++) {
    const b = (rhos[m] as number) * dot(ys[m] as Float64Array, q);
    const s = ss[m] as Float64Array;
    for (let i = 0; i < q.length; i++) q[i]! += s[i]! * ((alphas[m] as number) - b);
  }
  for (let i = 0; i < q.length; i++) q[i] = -(q[i] as number);
  return q;
}

export function minimizeLbfgs(objective: Objective, x0: Float64Array, options: LbfgsOptions = {}): LbfgsResult {
  const maxIter = options.maxIter ?? 100;
  const gtol = options.gtol ?? 1e-4;
  const ftol = options.ftol ?? 2.220446049250313e-9;
  const memory = options.memory ?? 10;
  const n = x0.length;
  let x = Float64Array.from(x0);
  let grad = new Float64Array(n);
  let f = objective(x, grad);
  const ss: Float64Array[] = [];
  const ys: Float64Array[] = [];
  const rhos: number[] = [];
  const xNew = new Float64Array(n);
  let gradNew = new Float64Array(n);
  for (let iter = 0; iter < maxIter; iter++) {
    if (maxAbs(grad) <= gtol) return { x, f, iterations: iter, reason: 'gtol' };
    let d = direction(grad, ss, ys, rhos);
    let slope = dot(grad, d);
    if (!(slope < 0)) {
      // the curvature pairs stopped describing a descent direction: restart from steepest descent
      ss.length = ys.length = rhos.length = 0;
      d = Float64Array.from(grad, (g) => -g);
      slope = dot(grad, d);
    }
    // the first step has no curvature yet: scale it to unit length, as scipy does
    let step = ss.length === 0 ? Math.min(1, 1 / Math.sqrt(-slope)) : 1;
    let fNew = Infinity;
    for (let tries = 0; ; tries++) {
      for (let i = 0; i < n; i++) xNew[i] = (x[i] as number) + step * (d[i] as number);
      fNew = objective(xNew, gradNew);
      if (fNew <= f + 1e-4 * step * slope) break;
      if (tries === 60) return { x, f, iterations: iter, reason: 'lineSearch' };
      step *= 0.5;
    }
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = (xNew[i] as number) - (x[i] as number);
      y[i] = (gradNew[i] as number) - (grad[i] as number);
    }
    const sy = dot(s, y);
    if (sy > 1e-10 * dot(y, y)) {
      if (ss.length === memory) {
        ss.shift();
        ys.shift();
        rhos.shift();
      }
      ss.push(s);
      ys.push(y);
      rhos.push(1 / sy);
    }
    const decrease = f - fNew;
    x = Float64Array.from(xNew);
    [grad, gradNew] = [gradNew, grad];
    const fOld = f;
    f = fNew;
    if (decrease <= ftol * Math.max(Math.abs(fOld), Math.abs(fNew), 1)) {
      return { x, f, iterations: iter + 1, reason: maxAbs(grad) <= gtol ? 'gtol' : 'ftol' };
    }
  }
  return { x, f, iterations: maxIter, reason: maxAbs(grad) <= gtol ? 'gtol' : 'maxIter' };
}
