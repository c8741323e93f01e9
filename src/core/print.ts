// The print outbox's records as the POST channel and the store share them (SPEC §4 POST); the store keeps them.
/** A POST letter written to the print outbox: its line in the batch's manifest (SPEC §4 POST). */
export type PrintItem = {
  messageId: number;
  clientId: number;
  batchKey: string;
  file: string;
  letterType: string;
  replyEnvelopeAttached: boolean;
  paymentSlipAttached: boolean;
  pageCount: number;
  recipientName: string;
  /** One address line per text line. */
  recipientPostalAddress: string;
  certified: boolean;
  /** Read back only: its line is in the manifest file. */
  inManifest?: boolean;
};

/** A batch's manifest as its lock holder sees it. */
export type ManifestLedger = {
  /** The letters whose lines are not in the file yet, by messageId. */
  pending(): Promise<PrintItem[]>;
  all(): Promise<PrintItem[]>;
  /** The file's length at the last committed write; -1: none recorded. */
  recordedBytes(): Promise<number>;
  /** These letters' lines are in the file, which is `bytes` long now. */
  written(messageIds: number[], bytes: number): Promise<void>;
};
