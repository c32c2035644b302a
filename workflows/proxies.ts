/** Activity proxies for workflow code: each activity through the proxy of its profile, routed by the run's `RunRouting`. */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { QueueOf } from './failure';
import { routedProfile, type ProfileName, type RunRouting } from '../core/profiles';

export function routedActivities<A extends object>(profiles: Record<keyof A, ProfileName>, routing: RunRouting): A {
  const proxies: Record<ProfileName, A> = {
    io: proxyActivities<A>(routedProfile('io', routing)) as A,
    cpu: proxyActivities<A>(routedProfile('cpu', routing)) as A,
    train: proxyActivities<A>(routedProfile('train', routing)) as A,
  };
  return Object.fromEntries((Object.keys(profiles) as (keyof A)[]).map((name) => [name, proxies[profiles[name]][name]])) as A;
}

/** The task queue an activity type runs on in this workflow, and its schedule-to-start timeout there (for "no worker on queue X"). */
export function queueOf<A extends object>(profiles: Record<keyof A, ProfileName>, routing: RunRouting): QueueOf {
  return (activity) => {
    const options = routedProfile(profiles[activity as keyof A] ?? 'io', routing);
    return { queue: options.taskQueue ?? workflowInfo().taskQueue, ...(options.scheduleToStartTimeout ? { waitMs: options.scheduleToStartTimeout } : {}) };
  };
}
