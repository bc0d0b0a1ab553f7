import { z } from 'zod';
import { level, text } from '../api.js';

export const INCIDENT_FIELDS = [
  'sys_id',
  'number',
  'short_description',
  'priority',
  'urgency',
  'impact',
  'state',
  'category',
  'assignment_group',
  'assigned_to',
  'cmdb_ci',
  'opened_at',
  'sys_updated_on',
] as const;

export const INCIDENT_DETAIL_FIELDS = [
  ...INCIDENT_FIELDS,
  'description',
  'caller_id',
  'business_service',
  'contact_type',
  'resolved_at',
  'close_code',
  'close_notes',
  'reopen_count',
] as const;

export const IncidentSchema = z.object({
  sysId: z.string(),
  number: z.string(),
  shortDescription: z.string().nullable(),
  priority: z.string().nullable().describe('Display value, e.g. "1 - Critical".'),
  priorityLevel: z.number().int().nullable().describe('1 (critical) to 5 (planning).'),
  urgency: z.string().nullable(),
  impact: z.string().nullable(),
  state: z.string().nullable(),
  category: z.string().nullable(),
  assignmentGroup: z.string().nullable(),
  assignedTo: z.string().nullable(),
  configurationItem: z.string().nullable(),
  openedAt: z.string().nullable(),
  updatedAt: z.string().nullable(),
});

export const IncidentDetailSchema = IncidentSchema.extend({
  description: z.string().nullable(),
  caller: z.string().nullable(),
  businessService: z.string().nullable(),
  contactType: z.string().nullable(),
  resolvedAt: z.string().nullable(),
  closeCode: z.string().nullable(),
  closeNotes: z.string().nullable(),
  reopenCount: z.number().int().nullable(),
});

export function toIncident(r: Record<string, string>): z.infer<typeof IncidentSchema> {
  return {
    sysId: r.sys_id ?? '',
    number: r.number ?? '',
    shortDescription: text(r, 'short_description'),
    priority: text(r, 'priority'),
    priorityLevel: level(text(r, 'priority')),
    urgency: text(r, 'urgency'),
    impact: text(r, 'impact'),
    state: text(r, 'state'),
    category: text(r, 'category'),
    assignmentGroup: text(r, 'assignment_group'),
    assignedTo: text(r, 'assigned_to'),
    configurationItem: text(r, 'cmdb_ci'),
    openedAt: text(r, 'opened_at'),
    updatedAt: text(r, 'sys_updated_on'),
  };
}

export function toIncidentDetail(r: Record<string, string>): z.infer<typeof IncidentDetailSchema> {
  const reopen = Number(r.reopen_count);
  return {
    ...toIncident(r),
    description: text(r, 'description'),
    caller: text(r, 'caller_id'),
    businessService: text(r, 'business_service'),
    contactType: text(r, 'contact_type'),
    resolvedAt: text(r, 'resolved_at'),
    closeCode: text(r, 'close_code'),
    closeNotes: text(r, 'close_notes'),
    reopenCount: r.reopen_count !== undefined && r.reopen_count !== '' && Number.isInteger(reopen) ? reopen : null,
  };
}

export const CHANGE_FIELDS = [
  'sys_id',
  'number',
  'short_description',
  'type',
  'state',
  'risk',
  'impact',
  'approval',
  'start_date',
  'end_date',
  'assignment_group',
  'assigned_to',
  'cmdb_ci',
] as const;

export const ChangeSchema = z.object({
  sysId: z.string(),
  number: z.string(),
  shortDescription: z.string().nullable(),
  type: z.string().nullable(),
  state: z.string().nullable(),
  risk: z.string().nullable(),
  impact: z.string().nullable(),
  approval: z.string().nullable(),
  start: z.string().nullable(),
  end: z.string().nullable(),
  assignmentGroup: z.string().nullable(),
  assignedTo: z.string().nullable(),
  configurationItem: z.string().nullable(),
});

export function toChange(r: Record<string, string>): z.infer<typeof ChangeSchema> {
  return {
    sysId: r.sys_id ?? '',
    number: r.number ?? '',
    shortDescription: text(r, 'short_description'),
    type: text(r, 'type'),
    state: text(r, 'state'),
    risk: text(r, 'risk'),
    impact: text(r, 'impact'),
    approval: text(r, 'approval'),
    start: text(r, 'start_date'),
    end: text(r, 'end_date'),
    assignmentGroup: text(r, 'assignment_group'),
    assignedTo: text(r, 'assigned_to'),
    configurationItem: text(r, 'cmdb_ci'),
  };
}

export const CI_FIELDS = [
  'sys_id',
  'name',
  'sys_class_name',
  'operational_status',
  'install_status',
  'ip_address',
  'fqdn',
  'os',
  'os_version',
  'location',
  'support_group',
  'managed_by',
  'environment',
  'sys_updated_on',
] as const;

export const CiSchema = z.object({
  sysId: z.string(),
  name: z.string(),
  class: z.string().nullable(),
  operationalStatus: z.string().nullable(),
  installStatus: z.string().nullable(),
  ipAddress: z.string().nullable(),
  fqdn: z.string().nullable(),
  os: z.string().nullable(),
  osVersion: z.string().nullable(),
  location: z.string().nullable(),
  supportGroup: z.string().nullable(),
  managedBy: z.string().nullable(),
  environment: z.string().nullable(),
  updatedAt: z.string().nullable(),
});

export function toCi(r: Record<string, string>): z.infer<typeof CiSchema> {
  return {
    sysId: r.sys_id ?? '',
    name: r.name ?? '',
    class: text(r, 'sys_class_name'),
    operationalStatus: text(r, 'operational_status'),
    installStatus: text(r, 'install_status'),
    ipAddress: text(r, 'ip_address'),
    fqdn: text(r, 'fqdn'),
    os: text(r, 'os'),
    osVersion: text(r, 'os_version'),
    location: text(r, 'location'),
    supportGroup: text(r, 'support_group'),
    managedBy: text(r, 'managed_by'),
    environment: text(r, 'environment'),
    updatedAt: text(r, 'sys_updated_on'),
  };
}
