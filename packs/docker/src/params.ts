import { z } from 'zod';

/** Container names and IDs: docker allows [a-zA-Z0-9][a-zA-Z0-9_.-]*; never starts with a dash. */
export const ContainerParam = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'a container name or ID');
