import { z } from 'zod';
import { Ref } from '../api.js';

/** MachineResponseModel fields this pack reads (Citrix DaaS REST API, GET /cvad/manage/Machines). */
export const RawMachine = z.object({
  Id: z.string(),
  Name: z.string().nullish(),
  DnsName: z.string().nullish(),
  RegistrationState: z.string().default('Unknown'),
  PowerState: z.string().nullish(),
  InMaintenanceMode: z.boolean().nullish(),
  FaultState: z.string().nullish(),
  SessionCount: z.number().int().nullish(),
  AgentVersion: z.string().nullish(),
  LastDeregistrationReason: z.string().nullish(),
  LastDeregistrationTime: z.string().nullish(),
  DeliveryGroup: Ref,
  MachineCatalog: Ref,
});

export const MachineSchema = z.object({
  name: z.string(),
  dnsName: z.string().nullable(),
  registrationState: z.string(),
  powerState: z.string().nullable(),
  inMaintenanceMode: z.boolean(),
  faultState: z.string().nullable(),
  deliveryGroup: z.string().nullable(),
  catalog: z.string().nullable(),
  sessions: z.number().int().nullable(),
  agentVersion: z.string().nullable(),
  lastDeregistrationReason: z.string().nullable(),
  lastDeregistrationTime: z.string().nullable(),
});

export function toMachine(raw: z.infer<typeof RawMachine>): z.infer<typeof MachineSchema> {
  return {
    name: raw.Name ?? raw.DnsName ?? raw.Id,
    dnsName: raw.DnsName ?? null,
    registrationState: raw.RegistrationState,
    powerState: raw.PowerState ?? null,
    inMaintenanceMode: raw.InMaintenanceMode ?? false,
    faultState: raw.FaultState && raw.FaultState !== 'None' ? raw.FaultState : null,
    deliveryGroup: raw.DeliveryGroup?.Name ?? null,
    catalog: raw.MachineCatalog?.Name ?? null,
    sessions: raw.SessionCount ?? null,
    agentVersion: raw.AgentVersion ?? null,
    lastDeregistrationReason:
      raw.LastDeregistrationReason && raw.LastDeregistrationReason !== 'Unknown' ? raw.LastDeregistrationReason : null,
    lastDeregistrationTime: raw.LastDeregistrationTime ?? null,
  };
}
