// The email templates live in outbox/templates.ts. This path stays only while test/job-templates.test.ts
// imports it from here; delete the file once that import names outbox/.
export { EMAIL_TEMPLATES } from '../../outbox';
