// A minimal two-step workflow used to test the history builder: stepA's result feeds stepB.
import { proxyActivities } from '@temporalio/workflow';

export interface ToyActivities {
  stepA(n: number): Promise<number>;
  stepB(doubled: number): Promise<string>;
}

const { stepA, stepB } = proxyActivities<ToyActivities>({ startToCloseTimeout: '1 minute' });

export async function toyWorkflow(input: { n: number }): Promise<string> {
  const doubled = await stepA(input.n);
  return await stepB(doubled);
}
