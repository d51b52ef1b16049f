package api

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"partners/eventstore"
)

// Concurrent bounds how many of one kind of request a user, and an
// organization, may have running at once on one replica (0: no bound).
type Concurrent struct{ PerUser, PerOrg int }

// heavyGate guards the reads that hold a database connection for long
// (audit exports, as-of replays) or poll it (min_position waits). They run
// on their own small pool, a few at once per user and per organization, and
// wait a bounded time for a free connection: one tenant cannot take the
// connections everyone else's queries and commands need.
type heavyGate struct {
	pool  *pgxpool.Pool
	store *eventstore.Store
	// slots holds one token per connection a long read may hold; one
	// connection is kept for the short reads (keys, checkpoints) that long
	// reads and waits make beside their own.
	slots chan struct{}
	wait  time.Duration

	mu      sync.Mutex
	running map[string]int
}

func newHeavyGate(pool *pgxpool.Pool, store *eventstore.Store, wait time.Duration) *heavyGate {
	n := int(pool.Config().MaxConns) - 1
	if n < 1 {
		n = 1
	}
	return &heavyGate{pool: pool, store: store, slots: make(chan struct{}, n), wait: wait, running: map[string]int{}}
}

// enter counts the caller's request of this kind against the user's and the
// organization's bounds; leave must follow when it ends.
func (g *heavyGate) enter(kind, user string, org uuid.UUID, lim Concurrent) (leave func(), ok bool) {
	var keys []string
	var bounds []int
	if user != "" && lim.PerUser > 0 {
		keys, bounds = append(keys, kind+":user:"+user), append(bounds, lim.PerUser)
	}
	if org != uuid.Nil && lim.PerOrg > 0 {
		keys, bounds = append(keys, kind+":org:"+org.String()), append(bounds, lim.PerOrg)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, k := range keys {
		if g.running[k] >= bounds[i] {
			return nil, false
		}
	}
	for _, k := range keys {
		g.running[k]++
	}
	return func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		for _, k := range keys {
			if g.running[k]--; g.running[k] <= 0 {
				delete(g.running, k)
			}
		}
	}, true
}

// acquire takes a connection slot, waiting at most g.wait.
func (g *heavyGate) acquire(ctx context.Context) (release func(), err error) {
	t := time.NewTimer(g.wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return func() { <-g.slots }, nil
	case <-t.C:
		return nil, edge(codeBusy, "The service is busy with long reads. Try again shortly.")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// heavyRead admits a long read (an export, an as-of replay) of the caller's
// on org: within the caller's and the organization's bounds (429 beyond),
// then on a free connection of the heavy pool (503 busy when none frees up
// in time). done must be called when the read ends.
func (s *Server) heavyRead(c *gin.Context, org uuid.UUID) (done func(), err error) {
	p, _ := principalOf(c)
	done, err = s.enterHeavy(c.Request.Context(), p.Subject, org)
	if errors.Is(err, errAtOnce) {
		return nil, tooManyAtOnce(c)
	}
	return done, err
}

// errAtOnce: the caller is beyond a concurrency bound of heavy reads.
var errAtOnce = errors.New("too many heavy reads at once")

// enterHeavy is heavyRead for the user on org: errAtOnce beyond the bounds,
// the busy refusal when no connection frees up in time.
func (s *Server) enterHeavy(ctx context.Context, user string, org uuid.UUID) (done func(), err error) {
	lim := s.cfg.Limits.Heavy
	if s.cfg.Limits.Off {
		lim = Concurrent{}
	}
	leave, ok := s.heavy.enter("heavy", user, org, lim)
	if !ok {
		return nil, errAtOnce
	}
	release, err := s.heavy.acquire(ctx)
	if err != nil {
		leave()
		return nil, err
	}
	return func() { release(); leave() }, nil
}

// tooManyAtOnce is the answer to a caller beyond a concurrency bound: their
// own requests of that kind end soon, so a second is a fair wait.
func tooManyAtOnce(c *gin.Context) error {
	c.Header("Retry-After", strconv.Itoa(1))
	return edge(codeRateLimited, "Too many exports, replays or waits of yours or your organization's are running. Wait for one to end and try again.")
}

// busyRetryAfter is what a 503 busy advises: long reads end within seconds
// or are cut.
const busyRetryAfter = 5
