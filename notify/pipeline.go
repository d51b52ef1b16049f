package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"partners/domain"
	"partners/eventstore"
	"partners/notify/mail"
)

// ConsumerGroup is the Watermill consumer group that queues emails.
const ConsumerGroup = "mail"

// Pipeline queues the emails events ask for and sends them.
type Pipeline struct {
	store     *eventstore.Store
	pool      *pgxpool.Pool
	sender    mail.Sender
	publicURL string
	domain    string
	log       *slog.Logger

	// PollInterval is how often the sender looks for due emails when not
	// woken up.
	PollInterval time.Duration
	// MaxAttempts bounds retries of temporary failures.
	MaxAttempts int
	// Lease is how long a sender owns the email it is sending (one at a
	// time, so one SMTP call, bounded by its own timeout, fits in it); after
	// a crash another sender takes it over once the lease ends.
	Lease time.Duration

	wake chan struct{}
}

// NewPipeline builds the pipeline; publicURL is the web app's base for links.
func NewPipeline(store *eventstore.Store, sender mail.Sender, publicURL string, log *slog.Logger) *Pipeline {
	host := "partners.local"
	if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" && strings.Contains(u.Hostname(), ".") {
		host = u.Hostname()
	}
	return &Pipeline{store: store, pool: store.Pool(), sender: sender, publicURL: strings.TrimRight(publicURL, "/"),
		domain: host, log: log, PollInterval: 200 * time.Millisecond, MaxAttempts: 12, Lease: time.Minute,
		wake: make(chan struct{}, 1)}
}

var notAtext = regexp.MustCompile(`[^A-Za-z0-9!#$%&'*+/=?^_{|}~.-]`)

// MessageID is the stable Message-ID of an event's email to a recipient:
// the same on every attempt, so a duplicate can be recognized downstream.
func (p *Pipeline) MessageID(eventID uuid.UUID, recipient string) string {
	return eventID.String() + "." + notAtext.ReplaceAllString(recipient, "-") + "@" + p.domain
}

// Queue is the Watermill reaction: it records the event's emails in the
// subscriber's transaction, so they are queued exactly when the event is
// acknowledged, and a redelivery queues nothing new.
func (p *Pipeline) Queue(ctx context.Context, tx *sql.Tx, ev *eventstore.Event) error {
	rule := ruleFor(ev.Type)
	if rule == nil {
		return nil
	}
	queued := false
	for _, m := range rule(ev, p.publicURL) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO mail_queue (message_id, event_id, recipient, person_ref) VALUES ($1, $2, $3, $4)
			ON CONFLICT (message_id) DO NOTHING`, p.MessageID(ev.EventID, m.Recipient), ev.EventID, m.Recipient, string(m.To.Owner)); err != nil {
			return fmt.Errorf("queue email: %w", err)
		}
		queued = true
	}
	if queued {
		p.Wake()
	}
	return nil
}

// Wake makes the sender look for due emails now.
func (p *Pipeline) Wake() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run sends due emails until ctx ends.
func (p *Pipeline) Run(ctx context.Context) error {
	for {
		n, err := p.SendDue(ctx)
		if err != nil && ctx.Err() == nil {
			p.log.Error("mail sender", "err", err)
		}
		if n > 0 && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-p.wake:
		case <-time.After(p.PollInterval):
		}
	}
}

type leased struct {
	messageID string
	eventID   uuid.UUID
	recipient string
	attempts  int
}

// SendDue leases due emails one at a time (up to 20 in a round), sends
// each outside any transaction, and records each outcome. It reports how
// many it handled.
func (p *Pipeline) SendDue(ctx context.Context) (int, error) {
	n := 0
	for ; n < 20; n++ {
		l, ok, err := p.leaseOne(ctx)
		if err != nil || !ok {
			return n, err
		}
		p.sendOne(ctx, l)
	}
	return n, nil
}

// leaseOne leases the next due email; ok is false when none is due.
func (p *Pipeline) leaseOne(ctx context.Context) (l leased, ok bool, err error) {
	err = p.pool.QueryRow(ctx, `
		UPDATE mail_queue SET leased_until = now() + $1::interval, attempts = attempts + 1
		 WHERE message_id IN (
			SELECT message_id FROM mail_queue
			 WHERE sent_at IS NULL AND dropped_at IS NULL AND next_attempt_at <= now()
			   AND (leased_until IS NULL OR leased_until < now())
			 ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED)
		RETURNING message_id, event_id, recipient, attempts`, p.Lease.String()).
		Scan(&l.messageID, &l.eventID, &l.recipient, &l.attempts)
	if errors.Is(err, pgx.ErrNoRows) {
		return leased{}, false, nil
	}
	return l, err == nil, err
}

// persist records an outcome, retrying through a database outage while the
// lease still holds the email, so a sent email is not sent again and a
// failed one does not wait out its whole lease.
func (p *Pipeline) persist(record func() error) error {
	deadline := time.Now().Add(p.Lease - 5*time.Second)
	wait := 100 * time.Millisecond
	for {
		err := record()
		if err == nil || time.Now().Add(wait).After(deadline) {
			return err
		}
		time.Sleep(wait)
		wait = min(2*wait, 2*time.Second)
	}
}

// persistExec persists the outcome one statement records.
func (p *Pipeline) persistExec(ctx context.Context, sql string, args ...any) error {
	return p.persist(func() error {
		_, err := p.pool.Exec(ctx, sql, args...)
		return err
	})
}

func (p *Pipeline) recordSent(ctx context.Context, l leased, usedSecret bool) error {
	if _, err := p.pool.Exec(ctx, `UPDATE mail_queue SET sent_at = now(), leased_until = NULL, last_error = NULL WHERE message_id = $1`, l.messageID); err != nil {
		return err
	}
	if usedSecret {
		// The token has reached its email; keep it only for another email of
		// the same event still due.
		_, err := p.pool.Exec(ctx, `DELETE FROM pending_secrets WHERE event_id = $1 AND NOT EXISTS (
			SELECT 1 FROM mail_queue WHERE event_id = $1 AND sent_at IS NULL AND dropped_at IS NULL)`, l.eventID)
		return err
	}
	return nil
}

// errDrop marks an email that will never be sent.
type errDrop struct{ reason string }

func (e errDrop) Error() string { return e.reason }

// errRetry marks a failure of ours (the database) worth retrying.
type errRetry struct{ err error }

func (e errRetry) Error() string { return e.err.Error() }

func temporary(err error) bool {
	var r errRetry
	return errors.As(err, &r) || mail.IsTemporary(err)
}

func (p *Pipeline) sendOne(ctx context.Context, l leased) {
	msg, usedSecret, err := p.build(ctx, l)
	if err == nil {
		err = p.sender.Send(ctx, msg)
	}
	bg := context.WithoutCancel(ctx)
	var drop errDrop
	switch {
	case err == nil:
		// The SMTP server has it: until the record is made, a crash or an
		// outage would send it again.
		if err = p.persist(func() error { return p.recordSent(bg, l, usedSecret) }); err != nil {
			p.log.Error("email sent but not recorded as sent", "message_id", l.messageID, "err", err)
		}
	case errors.As(err, &drop) || !temporary(err) || l.attempts >= p.MaxAttempts:
		p.log.Warn("email dropped", "message_id", l.messageID, "reason", err.Error(), "attempts", l.attempts)
		_ = p.persistExec(bg, `UPDATE mail_queue SET dropped_at = now(), leased_until = NULL, last_error = $2 WHERE message_id = $1`,
			l.messageID, truncate(err.Error()))
	default:
		backoff := time.Duration(1<<min(l.attempts, 9)) * time.Second
		p.log.Warn("email will be retried", "message_id", l.messageID, "in", backoff.String(), "err", err.Error())
		_ = p.persistExec(bg, `UPDATE mail_queue SET next_attempt_at = now() + $2::interval, leased_until = NULL, last_error = $3 WHERE message_id = $1`,
			l.messageID, backoff.String(), truncate(err.Error()))
	}
}

// build reopens the event and renders the email for the recipient.
func (p *Pipeline) build(ctx context.Context, l leased) (mail.Message, bool, error) {
	ev, ok, err := p.store.ReadEvent(ctx, l.eventID)
	if err != nil {
		return mail.Message{}, false, errRetry{err}
	}
	if !ok {
		return mail.Message{}, false, errDrop{"event not found"}
	}
	rule := ruleFor(ev.Type)
	if rule == nil {
		return mail.Message{}, false, errDrop{"no email rule for " + ev.Type}
	}
	var m *Mail
	for _, c := range rule(&ev, p.publicURL) {
		if c.Recipient == l.recipient {
			m = &c
			break
		}
	}
	if m == nil {
		return mail.Message{}, false, errDrop{"recipient no longer asked for"}
	}
	if m.To.IsForgotten() || m.To.Value == "" {
		return mail.Message{}, false, errDrop{"recipient forgotten"}
	}
	usedSecret := false
	if strings.Contains(m.Data.Link, SecretPlaceholder) {
		var sealed []byte
		err := p.pool.QueryRow(ctx, `SELECT sealed FROM pending_secrets WHERE event_id = $1`, l.eventID).Scan(&sealed)
		if errors.Is(err, pgx.ErrNoRows) {
			return mail.Message{}, false, errDrop{"the link's secret is gone"}
		}
		if err != nil {
			return mail.Message{}, false, errRetry{err}
		}
		secret, err := p.store.Keys().OpenSecret(sealed)
		if err != nil {
			return mail.Message{}, false, errDrop{"the link's secret cannot be opened"}
		}
		m.Data.Link = strings.ReplaceAll(m.Data.Link, SecretPlaceholder, url.PathEscape(string(secret)))
		usedSecret = true
	}
	content, err := mail.Render(m.Kind, m.Locale, m.Data)
	if err != nil {
		return mail.Message{}, false, errDrop{"render: " + err.Error()}
	}
	return mail.Message{ID: l.messageID, To: m.To.Value, Locale: m.Locale, Content: content}, usedSecret, nil
}

func truncate(s string) string {
	if len(s) > 500 {
		return s[:500]
	}
	return s
}

// ForgetFiles deletes the .eml files written to a forgotten person, when
// emails go to a folder instead of SMTP. It reports how many it removed.
func (p *Pipeline) ForgetFiles(ctx context.Context, dir string, ref domain.PersonRef) (int, error) {
	rows, err := p.pool.Query(ctx, `SELECT message_id FROM mail_queue WHERE person_ref = $1`, string(ref))
	if err != nil {
		return 0, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		err := os.Remove(filepath.Join(dir, mail.EMLFileName(id)))
		if err == nil {
			n++
		} else if !errors.Is(err, os.ErrNotExist) {
			return n, err
		}
	}
	return n, nil
}
