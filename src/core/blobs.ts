// Attachment bytes behind put/get/delete (listmonk's media stores), so where they live can change without the rest:
// today a bytea column (store/attachment-blobs.ts), later a file system or an object store.

/** An attachment's bytes are named by their message and place in it. */
export type BlobKey = { messageId: number; seq: number };

export interface AttachmentBlobs {
  put(key: BlobKey, bytes: Buffer): Promise<void>;
  /** undefined: no attachment there. */
  get(key: BlobKey): Promise<Buffer | undefined>;
  delete(key: BlobKey): Promise<void>;
}
