// Channels POST, PORTAL, ARCHIVE: the archive ledger and DMS, the print items behind manifests, portal state.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('attachments', (t) => {
    t.boolean('certified').notNullable().defaultTo(false);
  });
  await knex.schema.alterTable('messages', (t) => {
    t.timestamp('published_at', { useTz: true });
    t.timestamp('read_at', { useTz: true });
  });

  // The gateway's own document store (SPEC §4 step 4, target DMS), searchable per client.
  await knex.schema.createTable('dms_documents', (t) => {
    t.bigIncrements('id');
    t.integer('client_id').notNullable().references('clients.id');
    t.bigInteger('message_id').notNullable().references('messages.id');
    t.integer('attachment_seq').notNullable(); // -1: the message's own rendered content
    t.text('file_name').notNullable();
    t.text('content_type').notNullable();
    t.binary('content').notNullable();
    t.integer('size').notNullable();
    t.text('document_type');
    t.text('object_type');
    t.text('object_ref');
    t.jsonb('metadata').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['message_id', 'attachment_seq']);
    t.index(['client_id', 'object_ref']);
    t.index(['client_id', 'document_type']);
  });

  // One row per archived item, whatever the target: re-running an archive step after a crash finds it done.
  await knex.schema.createTable('archive_entries', (t) => {
    t.bigInteger('message_id').notNullable().references('messages.id');
    t.integer('attachment_seq').notNullable();
    t.text('target').notNullable();
    t.text('location').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['message_id', 'attachment_seq']);
  });

  // Letters written to the print outbox; each batch's manifest is regenerated from these rows.
  await knex.schema.createTable('print_items', (t) => {
    t.bigInteger('message_id').primary().references('messages.id');
    t.integer('client_id').notNullable();
    t.text('batch_key').notNullable();
    t.text('file').notNullable();
    t.text('letter_type').notNullable();
    t.boolean('reply_envelope_attached').notNullable();
    t.boolean('payment_slip_attached').notNullable();
    t.integer('page_count').notNullable();
    t.text('recipient_name').notNullable();
    t.text('recipient_postal_address').notNullable();
    t.boolean('certified').notNullable().defaultTo(false);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['batch_key']);
  });
  await knex.schema.alterTable('messages', (t) => {
    t.index(['partner_ref', 'channel']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('messages', (t) => {
    t.dropIndex(['partner_ref', 'channel']);
    t.dropColumn('published_at');
    t.dropColumn('read_at');
  });
  await knex.schema.dropTableIfExists('print_items');
  await knex.schema.dropTableIfExists('archive_entries');
  await knex.schema.dropTableIfExists('dms_documents');
  await knex.schema.alterTable('attachments', (t) => t.dropColumn('certified'));
}
