// Clients, versioned templates, messages with attachments and events, the delivery job table, and the idempotency keys.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('clients', (t) => {
    t.increments('id');
    t.text('hash_key').notNullable().unique();
    t.text('name').notNullable();
    t.boolean('enabled').notNullable().defaultTo(true);
    t.text('default_from_address').notNullable();
    t.text('default_from_name');
    t.integer('max_attachments');
    t.bigInteger('max_attachment_bytes');
    // JWT settings for the REST intake (SPEC §3): algorithms pinned per client.
    t.boolean('jwt_required').notNullable().defaultTo(false);
    t.text('jwt_algorithms');
    t.text('jwt_secret');
    t.text('jwt_public_key');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('templates', (t) => {
    t.increments('id');
    t.integer('client_id').notNullable().references('clients.id');
    t.text('message_type').notNullable();
    t.integer('version').notNullable();
    t.text('subject').notNullable();
    t.text('text_body');
    t.text('html_body');
    t.text('letter_layout');
    t.text('default_channel');
    t.boolean('active').notNullable().defaultTo(true);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['client_id', 'message_type', 'version']);
  });

  await knex.schema.createTable('messages', (t) => {
    t.bigIncrements('id');
    t.integer('client_id').notNullable().references('clients.id');
    t.text('status').notNullable();
    t.text('channel').notNullable();
    t.text('request_id');
    t.text('batch_id');
    t.text('partner_ref');
    t.text('message_type');
    t.integer('message_type_version');
    t.integer('template_id').references('templates.id');
    t.text('subject').notNullable();
    t.text('text_body');
    t.text('html_body');
    t.text('recipient_name').notNullable();
    t.text('recipient_email_address');
    t.text('recipient_postal_address');
    t.text('recipient_email_address_cc');
    t.text('recipient_name_cc');
    t.text('bcc_address');
    t.text('reply_to_address');
    t.text('reply_to_name');
    t.text('from_address').notNullable();
    t.text('from_name');
    t.text('xml_data');
    t.boolean('archiving_expected').notNullable().defaultTo(false);
    t.boolean('certification_expected').notNullable().defaultTo(false);
    t.text('user_name');
    t.bigInteger('related_message_id');
    t.boolean('reply_envelope_attached').notNullable().defaultTo(false);
    t.boolean('payment_slip_attached').notNullable().defaultTo(false);
    t.bigInteger('campaign_part_id');
    t.text('letter_type');
    t.jsonb('properties').notNullable().defaultTo('[]');
    t.jsonb('params').notNullable().defaultTo('[]');
    t.text('intake').notNullable();
    t.text('origin');
    t.text('issuer');
    t.text('correlation_id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['client_id', 'batch_id']);
    t.index(['client_id', 'request_id']);
    t.index(['client_id', 'partner_ref']);
  });

  await knex.schema.createTable('attachments', (t) => {
    t.bigIncrements('id');
    t.bigInteger('message_id').notNullable().references('messages.id');
    t.integer('seq').notNullable();
    t.text('file_name').notNullable();
    t.binary('content').notNullable();
    t.integer('size').notNullable();
    t.text('document_type');
    t.text('object_type');
    t.text('object_ref');
    t.boolean('archiving_expected').notNullable().defaultTo(false);
    t.boolean('certification_expected').notNullable().defaultTo(false);
    t.boolean('delete_source_expected').notNullable().defaultTo(false);
    t.boolean('postable_without_certificate').notNullable().defaultTo(false);
    t.text('internal_file_name');
    t.jsonb('properties').notNullable().defaultTo('[]');
    t.unique(['message_id', 'seq']);
  });

  await knex.schema.createTable('message_events', (t) => {
    t.bigIncrements('id');
    t.bigInteger('message_id').notNullable().references('messages.id');
    t.text('status').notNullable();
    t.text('reason');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['message_id']);
  });

  // The delivery queue, written in the message's own transaction (STYLE §5 "Job queue").
  await knex.schema.createTable('jobs', (t) => {
    t.bigIncrements('id');
    t.bigInteger('message_id').notNullable().unique().references('messages.id');
    t.timestamp('run_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.integer('attempts').notNullable().defaultTo(0);
    t.text('locked_by');
    t.timestamp('locked_at', { useTz: true });
    t.text('last_error');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['run_at']);
  });

  // SPEC §6: requestId + identical payload within the window; and the strict idempotency key.
  await knex.schema.createTable('request_keys', (t) => {
    t.integer('client_id').notNullable();
    t.text('request_id').notNullable();
    t.text('payload_hash').notNullable();
    t.bigInteger('message_id').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['client_id', 'request_id', 'payload_hash']);
  });
  await knex.schema.createTable('idempotency_keys', (t) => {
    t.integer('client_id').notNullable();
    t.text('key').notNullable();
    t.text('payload_hash').notNullable();
    t.bigInteger('message_id').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['client_id', 'key']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const t of ['idempotency_keys', 'request_keys', 'jobs', 'message_events', 'attachments', 'messages', 'templates', 'clients']) {
    await knex.schema.dropTableIfExists(t);
  }
}
