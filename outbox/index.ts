// The notification outbox: emails written in the transaction that causes them, then claimed, rendered
// and sent once each. Plain functions over the database and an SMTP transport; the activities that
// call them decide which Temporal failure a refusal becomes.
export * from './deliver';
export * from './document-emails';
export * from './enqueue';
export * from './render';
export * from './templates';
export * from './mailer';
