// ARCHIVE channel: archived only, nothing delivered (SPEC §4); the archive step before it did the work.
import type { Channel } from '../channel.js';

export function createArchiveChannel(): Channel {
  return {
    async deliver() {
      return { kind: 'sent', status: 'ARCHIVED', ref: 'archived only' };
    },
    async close() {},
  };
}
