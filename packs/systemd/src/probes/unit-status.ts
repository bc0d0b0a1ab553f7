import { defineProbe } from '@sonde/pack-sdk';
import { z } from 'zod';
import { UnitParam } from '../params.js';
import { parseShow, toUnitStatus } from '../parsers/show.js';
import { SHOW_PROPERTY_ARGS } from '../permissions.js';
import { run } from '../systemctl.js';

const text = z.string().nullable();
const num = z.number().nullable();

export const unitStatus = defineProbe({
  name: 'unit.status',
  description:
    'State of one unit: load/active/sub state, enabled state, restart policy and count, main PID, last exit status, when it became active or inactive, memory, CPU seconds and tasks. A unit that does not exist is reported with exists=false.',
  params: z.strictObject({ unit: UnitParam }),
  result: z.object({
    unit: z.string(),
    exists: z.boolean(),
    description: text,
    loadState: z.string(),
    activeState: z.string(),
    subState: z.string(),
    unitFileState: text,
    fragmentPath: text,
    type: text,
    restart: text,
    restarts: num,
    result: text,
    mainPid: num,
    execMainStatus: num,
    execMainStartedAt: text,
    execMainExitedAt: text,
    activeSince: text,
    inactiveSince: text,
    stateChangedAt: text,
    memoryBytes: num,
    cpuSeconds: num,
    tasks: num,
  }),
  timeoutMs: 15_000,
  async handler(params, ctx) {
    const out = await run(ctx, 'systemctl', ['show', '--no-pager', ...SHOW_PROPERTY_ARGS, '--', params.unit]);
    return toUnitStatus(params.unit, parseShow(out.stdout));
  },
});
