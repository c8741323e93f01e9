// The ordered list of migrations: loaded as modules so the same list serves compiled and test runs.
import type { Knex } from 'knex';
import * as m001 from './001_initial.js';
import * as m002 from './002_channels.js';
import * as m003 from './003_management.js';
import * as m004 from './004_job_order.js';
import * as m005 from './005_portal_keys.js';
import * as m006 from './006_secrets_at_rest.js';
import * as m007 from './007_client_rate_limit.js';
import * as m008 from './008_job_leases.js';
import * as m009 from './009_postal_address_events_once.js';

export const migrations: Record<string, Knex.Migration> = {
  '001_initial': m001,
  '002_channels': m002,
  '003_management': m003,
  '004_job_order': m004,
  '005_portal_keys': m005,
  '006_secrets_at_rest': m006,
  '007_client_rate_limit': m007,
  '008_job_leases': m008,
  '009_postal_address_events_once': m009,
};
