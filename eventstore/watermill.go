package eventstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmsql "github.com/ThreeDotsLabs/watermill-sql/v3/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// outboxSchema is watermill-sql's default PostgreSQL schema with one change
// measured to matter: the "after my offset" filter is a row comparison that
// the primary key index serves, so a backlog drains at the same rate
// whatever its size (the default filter sorts every unread row per batch).
type outboxSchema struct {
	wmsql.DefaultPostgreSQLSchema
}

func (s outboxSchema) SelectQuery(topic string, consumerGroup string, offsets wmsql.OffsetsAdapter) wmsql.Query {
	next := offsets.NextOffsetQuery(topic, consumerGroup)
	q := `
	WITH last_processed AS (` + next.Query + `)
	SELECT "offset", transaction_id, uuid, payload, metadata FROM ` + s.MessagesTable(topic) + `
	 WHERE (transaction_id, "offset") > (
	         (SELECT last_processed_transaction_id FROM last_processed),
	         (SELECT offset_acked FROM last_processed))
	   AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
	 ORDER BY transaction_id ASC, "offset" ASC
	 LIMIT ` + strconv.Itoa(s.SubscribeBatchSize)
	return wmsql.Query{Query: q, Args: next.Args}
}

// Reaction handles one event delivered by Watermill, inside the
// subscriber's transaction tx (which also records the consumer's offset, so
// writes through tx and the acknowledgement commit together). The
// transaction holds back every reader of the log while it is open: keep a
// reaction quick, never call the network from it.
type Reaction func(ctx context.Context, tx *sql.Tx, ev *Event) error

// Reactions runs Watermill handlers fed by the outbox, each in its own
// consumer group.
type Reactions struct {
	store  *Store
	db     *sql.DB
	router *message.Router
	logger watermill.LoggerAdapter
}

// NewReactions builds a Watermill router over the outbox. Its subscribers
// use a database/sql handle bridged from the pgx pool, on purpose: a
// subscriber that gives up on a message (shutdown, ack deadline) ends its
// transaction while the reaction may still be using it, and database/sql's Tx
// makes that end wait for the statement in flight. watermill-sql v4's pgx
// adapter does not (see the README).
func NewReactions(store *Store, pool *pgxpool.Pool, logger watermill.LoggerAdapter) (*Reactions, error) {
	if logger == nil {
		logger = watermill.NopLogger{}
	}
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 10 * time.Second}, logger)
	if err != nil {
		return nil, err
	}
	return &Reactions{store: store, db: stdlib.OpenDBFromPool(pool), router: router, logger: logger}, nil
}

// Add subscribes a reaction under its consumer group.
func (r *Reactions) Add(consumerGroup string, react Reaction) error {
	// Reactions are quick database writes: a short deadline ends a batch stuck
	// on a connection a database restart killed, instead of holding the
	// readers' horizon for the default 30 s.
	ack := 5 * time.Second
	sub, err := wmsql.NewSubscriber(r.db, wmsql.SubscriberConfig{
		ConsumerGroup: consumerGroup,
		// Small batches: the subscriber's transaction stays open over its
		// batch and holds back what the projector may read (measured: lag p99
		// 151 ms with batches of 100 against 45 ms without reactions).
		SchemaAdapter:  outboxSchema{wmsql.DefaultPostgreSQLSchema{SubscribeBatchSize: 10}},
		OffsetsAdapter: wmsql.DefaultPostgreSQLOffsetsAdapter{},
		PollInterval:   50 * time.Millisecond,
		ResendInterval: 200 * time.Millisecond,
		RetryInterval:  time.Second,
		AckDeadline:    &ack,
	}, r.logger)
	if err != nil {
		return err
	}
	// The offsets row must exist before the first FOR UPDATE can lock it.
	if _, err := r.db.Exec(`INSERT INTO watermill_offsets_events (consumer_group, offset_acked, last_processed_transaction_id)
		VALUES ($1, 0, '0') ON CONFLICT DO NOTHING`, consumerGroup); err != nil {
		return fmt.Errorf("consumer group %s: %w", consumerGroup, err)
	}
	r.router.AddConsumerHandler(consumerGroup, OutboxTopic, sub, func(msg *message.Message) error {
		ctx := msg.Context()
		tx, ok := wmsql.TxFromContext(ctx)
		if !ok {
			return fmt.Errorf("%s: message delivered without its transaction", consumerGroup)
		}
		env, err := OutboxEnvelope(msg.Payload)
		if err != nil {
			return fmt.Errorf("%s: outbox payload: %w", consumerGroup, err)
		}
		evs, err := r.store.Decode(ctx, nil, []Envelope{env})
		if err != nil {
			return err
		}
		return react(ctx, tx, &evs[0])
	})
	return nil
}

// Run runs the handlers until ctx ends.
func (r *Reactions) Run(ctx context.Context) error {
	return r.router.Run(ctx)
}

// Running is closed once the handlers are subscribed.
func (r *Reactions) Running() chan struct{} { return r.router.Running() }

// Close stops the router.
func (r *Reactions) Close() error {
	err := r.router.Close()
	_ = r.db.Close()
	return err
}
