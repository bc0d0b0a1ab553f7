import { z } from 'zod';

/** Delivery group names as Studio allows them, minus anything that is syntax somewhere (no \ / ; : # . * ? = < > | [ ] ( ) " '). */
export const DeliveryGroupName = z
  .string()
  .regex(/^[A-Za-z0-9 _@&,+!${}~-]{1,64}$/, 'a delivery group name (letters, digits, spaces and _ @ & , + ! $ { } ~ -)')
  .refine((v) => v.trim() === v, 'no leading or trailing spaces');
