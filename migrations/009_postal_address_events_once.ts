// Issue 17: a client's postal return address for its letters; a step's event (ARCHIVED) recorded at most once per
// message, guarded by a unique index rather than a read before the insert; the unused templates.letter_layout dropped.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('clients', (t) => t.text('postal_address'));
  // Two workers could both have recorded it before the index: the first one stays.
  await knex.raw(
    `delete from message_events e using message_events first
      where e.status = 'ARCHIVED' and first.status = 'ARCHIVED' and first.message_id = e.message_id and first.id < e.id`,
  );
  await knex.raw(`create unique index if not exists message_events_archived_once on message_events (message_id) where status = 'ARCHIVED'`);
  await knex.schema.alterTable('templates', (t) => t.dropColumn('letter_layout'));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('templates', (t) => t.text('letter_layout'));
  await knex.raw('drop index if exists message_events_archived_once');
  await knex.schema.alterTable('clients', (t) => t.dropColumn('postal_address'));
}
