/**
 * Temporal work per checkout, read back from workflow histories: workflow tasks, activity tasks,
 * local activities (MarkerRecorded "core_local_activity"), child executions (discovered from the
 * parent's StartChildWorkflowExecutionInitiated events, never assumed), signals, updates, timers and
 * events; the time from the start to the first completed workflow task and to the end of the
 * checkout; and a condensed timeline (one line per workflow task, activity, child, signal...).
 *
 * "End of the checkout" is the first of WorkflowExecutionCompleted / WorkflowExecutionUpdateCompleted
 * (a workflow that lives on after the checkout, answering it by Update), else the last completed
 * workflow task of the history fetched right after the checkout answered.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

function num(value: unknown): number {
  if (typeof value === 'number') return value;
  // int64 fields are protobufjs Longs, whose toString is the decimal value.
  return Number(String(value));
}

/** EVENT_TYPE_WORKFLOW_TASK_SCHEDULED -> WorkflowTaskScheduled */
export function eventTypeName(type: temporal.api.enums.v1.EventType | null | undefined): string {
  const raw = temporal.api.enums.v1.EventType[type ?? 0] ?? `EVENT_TYPE_${String(type)}`;
  return raw
    .replace(/^EVENT_TYPE_/, '')
    .toLowerCase()
    .replace(/(^|_)([a-z])/g, (_m, _sep: string, letter: string) => letter.toUpperCase());
}

function eventMs(event: HistoryEvent): number {
  const t = event.eventTime;
  return t ? num(t.seconds) * 1000 + (t.nanos ?? 0) / 1e6 : 0;
}

const round1 = (value: number): number => Math.round(value * 10) / 10;

export interface ExecutionCounts {
  workflowId: string;
  events: number;
  workflowTasks: number;
  activityTasks: number;
  localActivities: number;
  childrenStarted: number;
  signals: number;
  updates: number;
  timers: number;
  eventTypes: Record<string, number>;
  activityTypes: Record<string, number>;
  childIds: string[];
}

export interface TimelineLine {
  /** ms after WorkflowExecutionStarted of the checkout. */
  atMs: number;
  what: string;
  /** Queue time (scheduled -> started) of a workflow or activity task. */
  queuedMs?: number;
  /** Run time (started -> completed/failed). */
  ranMs?: number;
}

export interface ExecutionAnalysis {
  counts: ExecutionCounts;
  startedAtMs: number;
  /** WorkflowExecutionStarted -> first WorkflowTaskCompleted. */
  firstWorkflowTaskMs: number | null;
  /** WorkflowExecutionStarted -> end of the checkout (see the header). */
  endMs: number | null;
  endEvent: string | null;
  /** Sums over the execution (parallel activities overlap). */
  workflowTaskQueuedMs: number;
  workflowTaskRanMs: number;
  activityQueuedMs: number;
  activityRanMs: number;
  timeline: TimelineLine[];
  events: { id: number; type: string; atMs: number; deltaMs: number }[];
}

export function analyseHistory(workflowId: string, events: readonly HistoryEvent[]): ExecutionAnalysis {
  const startedAtMs = events.length > 0 ? eventMs(events[0]!) : 0;
  const at = (event: HistoryEvent): number => round1(eventMs(event) - startedAtMs);
  const counts: ExecutionCounts = {
    workflowId,
    events: events.length,
    workflowTasks: 0,
    activityTasks: 0,
    localActivities: 0,
    childrenStarted: 0,
    signals: 0,
    updates: 0,
    timers: 0,
    eventTypes: {},
    activityTypes: {},
    childIds: [],
  };
  const scheduled = new Map<number, { name: string; atMs: number; startedMs?: number }>();
  const timeline: TimelineLine[] = [];
  let firstWorkflowTaskMs: number | null = null;
  let lastWorkflowTaskMs: number | null = null;
  let endMs: number | null = null;
  let endEvent: string | null = null;
  const sums = { workflowTaskQueuedMs: 0, workflowTaskRanMs: 0, activityQueuedMs: 0, activityRanMs: 0 };
  let workflowTaskNo = 0;
  const list: ExecutionAnalysis['events'] = [];
  let previousMs = 0;
  for (const event of events) {
    const type = eventTypeName(event.eventType);
    const id = num(event.eventId);
    const t = at(event);
    list.push({ id, type, atMs: t, deltaMs: round1(t - previousMs) });
    previousMs = t;
    counts.eventTypes[type] = (counts.eventTypes[type] ?? 0) + 1;
    switch (type) {
      case 'WorkflowTaskScheduled':
        counts.workflowTasks += 1;
        scheduled.set(id, { name: 'workflow task', atMs: t });
        break;
      case 'WorkflowTaskStarted': {
        const task = scheduled.get(num(event.workflowTaskStartedEventAttributes?.scheduledEventId));
        if (task) task.startedMs = t;
        break;
      }
      case 'WorkflowTaskCompleted':
      case 'WorkflowTaskFailed':
      case 'WorkflowTaskTimedOut': {
        const attrs = event.workflowTaskCompletedEventAttributes ?? event.workflowTaskFailedEventAttributes ?? event.workflowTaskTimedOutEventAttributes;
        const task = scheduled.get(num(attrs?.scheduledEventId));
        workflowTaskNo += 1;
        if (type === 'WorkflowTaskCompleted') {
          firstWorkflowTaskMs ??= t;
          lastWorkflowTaskMs = t;
        }
        if (task) {
          const queued = (task.startedMs ?? t) - task.atMs;
          const ran = t - (task.startedMs ?? t);
          sums.workflowTaskQueuedMs += queued;
          sums.workflowTaskRanMs += ran;
          timeline.push({ atMs: task.atMs, what: `workflow task ${workflowTaskNo}${type === 'WorkflowTaskCompleted' ? '' : ` (${type})`}`, queuedMs: round1(queued), ranMs: round1(ran) });
        }
        break;
      }
      case 'ActivityTaskScheduled': {
        counts.activityTasks += 1;
        const name = event.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
        counts.activityTypes[name] = (counts.activityTypes[name] ?? 0) + 1;
        scheduled.set(id, { name, atMs: t });
        break;
      }
      case 'ActivityTaskStarted': {
        const task = scheduled.get(num(event.activityTaskStartedEventAttributes?.scheduledEventId));
        if (task) task.startedMs = t;
        break;
      }
      case 'ActivityTaskCompleted':
      case 'ActivityTaskFailed':
      case 'ActivityTaskTimedOut':
      case 'ActivityTaskCanceled': {
        const attrs =
          event.activityTaskCompletedEventAttributes ?? event.activityTaskFailedEventAttributes ?? event.activityTaskTimedOutEventAttributes ?? event.activityTaskCanceledEventAttributes;
        const task = scheduled.get(num(attrs?.scheduledEventId));
        if (task) {
          const queued = (task.startedMs ?? t) - task.atMs;
          const ran = t - (task.startedMs ?? t);
          sums.activityQueuedMs += queued;
          sums.activityRanMs += ran;
          timeline.push({ atMs: task.atMs, what: `activity ${task.name}${type === 'ActivityTaskCompleted' ? '' : ` (${type.replace('ActivityTask', '').toLowerCase()})`}`, queuedMs: round1(queued), ranMs: round1(ran) });
        }
        break;
      }
      case 'MarkerRecorded':
        if (event.markerRecordedEventAttributes?.markerName === 'core_local_activity') {
          counts.localActivities += 1;
          timeline.push({ atMs: t, what: 'local activity (marker)' });
        } else {
          timeline.push({ atMs: t, what: `marker ${event.markerRecordedEventAttributes?.markerName ?? '?'}` });
        }
        break;
      case 'StartChildWorkflowExecutionInitiated': {
        counts.childrenStarted += 1;
        const childId = event.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ?? '?';
        counts.childIds.push(childId);
        timeline.push({ atMs: t, what: `start child ${childId}` });
        break;
      }
      case 'ChildWorkflowExecutionStarted':
        timeline.push({ atMs: t, what: `child started ${event.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId ?? '?'}` });
        break;
      case 'WorkflowExecutionSignaled':
        counts.signals += 1;
        timeline.push({ atMs: t, what: `signal ${event.workflowExecutionSignaledEventAttributes?.signalName ?? '?'}` });
        break;
      case 'WorkflowExecutionUpdateAccepted':
        counts.updates += 1;
        timeline.push({ atMs: t, what: `update accepted ${event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name ?? ''}`.trimEnd() });
        break;
      case 'WorkflowExecutionUpdateCompleted':
        timeline.push({ atMs: t, what: 'update completed' });
        if (endMs === null) {
          endMs = t;
          endEvent = type;
        }
        break;
      case 'TimerStarted':
        counts.timers += 1;
        timeline.push({ atMs: t, what: 'timer started' });
        break;
      case 'WorkflowExecutionStarted':
      case 'UpsertWorkflowSearchAttributes':
      case 'WorkflowPropertiesModified':
        break;
      default:
        timeline.push({ atMs: t, what: type });
        if (type.startsWith('WorkflowExecution') && endMs === null) {
          endMs = t;
          endEvent = type;
        }
    }
  }
  if (endMs === null && lastWorkflowTaskMs !== null) {
    endMs = lastWorkflowTaskMs;
    endEvent = 'last WorkflowTaskCompleted';
  }
  timeline.sort((a, b) => a.atMs - b.atMs);
  return {
    counts,
    startedAtMs,
    firstWorkflowTaskMs,
    endMs,
    endEvent,
    workflowTaskQueuedMs: round1(sums.workflowTaskQueuedMs),
    workflowTaskRanMs: round1(sums.workflowTaskRanMs),
    activityQueuedMs: round1(sums.activityQueuedMs),
    activityRanMs: round1(sums.activityRanMs),
    timeline,
    events: list,
  };
}

export async function fetchAnalysis(client: Client, workflowId: string): Promise<ExecutionAnalysis> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return analyseHistory(workflowId, history.events ?? []);
}

export interface CheckoutWork {
  workflowId: string;
  /** The checkout's own execution plus its children (discovered from its history). */
  workflowTasks: number;
  activityTasks: number;
  localActivities: number;
  executions: number;
  children: number;
  signals: number;
  updates: number;
  events: number;
  parent: ExecutionAnalysis;
  childrenAnalysed: ExecutionAnalysis[];
}

/** A checkout's Temporal work: its history and the histories of the children it started. */
export async function checkoutWork(client: Client, workflowId: string): Promise<CheckoutWork> {
  const parent = await fetchAnalysis(client, workflowId);
  const childrenAnalysed = await Promise.all(parent.counts.childIds.map((id) => fetchAnalysis(client, id)));
  const all = [parent, ...childrenAnalysed];
  const sum = (pick: (a: ExecutionAnalysis) => number): number => all.reduce((total, a) => total + pick(a), 0);
  return {
    workflowId,
    workflowTasks: sum((a) => a.counts.workflowTasks),
    activityTasks: sum((a) => a.counts.activityTasks),
    localActivities: sum((a) => a.counts.localActivities),
    executions: all.length,
    children: childrenAnalysed.length,
    signals: sum((a) => a.counts.signals),
    updates: sum((a) => a.counts.updates),
    events: sum((a) => a.counts.events),
    parent,
    childrenAnalysed,
  };
}
