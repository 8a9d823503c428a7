-- Integrations over AMQP: each connects as its own RabbitMQ user, and the engine maps that user
-- (the message's user_id, which RabbitMQ validates against the connection) to the one company
-- it acts for and the parties it may act as. A user with no row here can send nothing.
CREATE TABLE integrations (
    rabbitmq_user text PRIMARY KEY,
    company_id    text NOT NULL,
    parties       text[] NOT NULL CHECK (cardinality(parties) > 0),
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Event routing keys now carry the company (event.<company>.<workflow_type>.<type>, the company
-- as one routing word: '%' and '.' percent-encoded), so RabbitMQ topic permissions can give an
-- integration its own company's events only. Events not yet published get the new key.
UPDATE outbox
SET routing_key = 'event.'
    || replace(replace(company_id, '%', '%25'), '.', '%2E')
    || substr(routing_key, length('event.') )
WHERE exchange = 'events' AND sent_at IS NULL AND routing_key LIKE 'event.%';
