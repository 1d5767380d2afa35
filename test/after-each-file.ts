import { closeTestMailer } from './helpers/mail';

// Runs in every test file's module registry: the mailer it closes is the one that file's workers used.
afterAll(() => closeTestMailer());
