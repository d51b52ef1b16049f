package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/google/uuid"

	"partners/domain"
	"partners/eventstore"
	"partners/projections"
)

// The query phase compares four queries of the service, each alone at the
// mix's client count, with their query ceiling: the read-model SQL the
// handler runs, sent through the projections package's own Reader on a
// plain pgx pool of the service's database, for the very organizations the
// HTTP clients read. A second ceiling adds the read the service makes
// before any query scoped to an organization: app.Enter folds the
// organization's stream, which in steady state is the event store's own
// ReadStreamAfter of the tail after the version the fold holds (none) with
// its destroyed-key check, one round trip. Both ratios are reported; the
// target is read against the first, the "same read-model SQL".
// The ceilings only read, so they run on the service's own database.

// queryEndpoint is one query the phase measures both ways.
type queryEndpoint struct {
	name string
	// http sends the query as the queries story does (min_position of the
	// client's last write).
	http func(ctx context.Context, c *client) (*response, error)
	// org is the organization the query is scoped to (its membership is
	// checked by the service).
	org func(w *world) string
	// sql is the handler's read-model SQL, through projections.Reader,
	// with the defaults the API applies when the query string is empty;
	// it returns the rows answered.
	sql func(ctx context.Context, r projections.Reader, org uuid.UUID) (int, error)
}

// firstPage is the page the API reads when ?limit= and ?cursor= are absent
// (api.pageOf). The phase checks that each HTTP answer holds as many items
// as the ceiling's read, so a drift shows.
var firstPage = projections.Page{Limit: 50}

// receivedDefault is the status Invitations received lists when ?status=
// is absent (pending ones).
const receivedDefault = "sent"

var queryEndpoints = []queryEndpoint{
	{
		name: "GET /v1/organizations/{org}/partners",
		http: func(ctx context.Context, c *client) (*response, error) {
			return c.get(ctx, "GET /v1/organizations/{org}/partners", c.world.owner, c.lastPos, panel(c.world.home))
		},
		org: func(w *world) string { return w.home },
		sql: func(ctx context.Context, r projections.Reader, org uuid.UUID) (int, error) {
			items, _, err := r.Partners(ctx, org, "", firstPage)
			return len(items), err
		},
	},
	{
		name: "GET /v1/organizations/{org}/invitations/sent",
		http: func(ctx context.Context, c *client) (*response, error) {
			return c.get(ctx, "GET /v1/organizations/{org}/invitations/sent", c.world.owner, c.lastPos, sent(c.world.home, nil))
		},
		org: func(w *world) string { return w.home },
		sql: func(ctx context.Context, r projections.Reader, org uuid.UUID) (int, error) {
			items, _, err := r.SentInvitations(ctx, org, "", time.Now(), firstPage)
			return len(items), err
		},
	},
	{
		name: "GET /v1/organizations/{org}/invitations/received",
		http: func(ctx context.Context, c *client) (*response, error) {
			return c.get(ctx, "GET /v1/organizations/{org}/invitations/received", c.world.subOwner, c.lastPos, received(c.world.sub, nil))
		},
		org: func(w *world) string { return w.sub },
		// The handler reads the organization (its side) first.
		sql: func(ctx context.Context, r projections.Reader, org uuid.UUID) (int, error) {
			o, ok, err := r.Organization(ctx, org)
			if err != nil {
				return 0, err
			}
			if !ok {
				return 0, errors.New("organization not in the read model")
			}
			items, _, err := r.ReceivedInvitations(ctx, org, o.Side, receivedDefault, time.Now(), firstPage)
			return len(items), err
		},
	},
	{
		name: "GET /v1/organizations/{org}/members",
		http: func(ctx context.Context, c *client) (*response, error) {
			return c.get(ctx, "GET /v1/organizations/{org}/members", c.world.owner, c.lastPos, members(c.world.home))
		},
		org: func(w *world) string { return w.home },
		sql: func(ctx context.Context, r projections.Reader, org uuid.UUID) (int, error) {
			items, _, err := r.Members(ctx, org, firstPage)
			return len(items), err
		},
	},
}

// QueryReport is the query phase's figures.
type QueryReport struct {
	Clients int `json:"clients"`
	// Seconds is the measured time of each endpoint on each side, summed
	// over the rounds.
	Seconds   float64         `json:"seconds"`
	Rounds    int             `json:"rounds"`
	Seed      string          `json:"seed"`
	What      string          `json:"what"`
	Endpoints []QueryEndpoint `json:"endpoints"`
}

// QueryEndpoint is one query over HTTP and as its two ceilings.
type QueryEndpoint struct {
	Endpoint string `json:"endpoint"`
	// Rows is the mean number of rows one answer holds, over the clients.
	Rows float64 `json:"rows_per_answer"`
	HTTP Latency `json:"http"`
	// SQL is the read-model SQL alone; SQLAuth adds the authorization read.
	SQL           Latency      `json:"ceiling_sql"`
	SQLAuth       Latency      `json:"ceiling_sql_and_authorization"`
	HTTPErrors    int          `json:"http_errors"`
	SQLErrors     int          `json:"ceiling_sql_errors"`
	SQLAuthErrors int          `json:"ceiling_sql_and_authorization_errors"`
	Ratio         float64      `json:"ratio"`
	RatioAuth     float64      `json:"ratio_with_authorization"`
	PerRound      []QueryRound `json:"rounds"`
	// Mismatch says where an HTTP answer and the ceiling's read of the
	// same organization differed before the windows (empty: none).
	Mismatch string `json:"mismatch,omitempty"`
}

// QueryRound is one round's three windows of one endpoint, back to back.
type QueryRound struct {
	HTTPPerSecond    float64 `json:"http_per_second"`
	SQLPerSecond     float64 `json:"ceiling_sql_per_second"`
	SQLAuthPerSecond float64 `json:"ceiling_sql_and_authorization_per_second"`
}

// authTail is an organization stream's tail as the service's fold holds it.
type authTail struct {
	stream  string
	version int
	keys    []uuid.UUID
}

// queryPhase seeds the clients' organizations through the API, checks that
// the HTTP answers and the ceilings read the same rows, then measures each
// endpoint: per round, its HTTP window, its read-model SQL window and its
// SQL + authorization window, back to back.
func queryPhase(ctx context.Context, cfg config, rep *Report, svc *service, mint *minter, log io.Writer) error {
	if svc.DBURL == "" {
		rep.Notes = append(rep.Notes, "query phase skipped: the ceilings need the service's database")
		return nil
	}
	n := cfg.clients
	hc := newHTTPClient(n)
	defer hc.CloseIdleConnections()
	clients := make([]*client, n)
	for i := range clients {
		// No recorder: the phase times its calls itself.
		clients[i] = &client{id: i, base: svc.URL, http: hc, m: mint, rng: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i)))}
	}
	if err := each(clients, func(c *client) error { return setup(ctx, c) }); err != nil {
		return fmt.Errorf("query phase: client setup: %w", err)
	}
	pending := min(n-1, cfg.querySeed)
	collaborators := max(1, cfg.querySeed/4)
	seed := fmt.Sprintf("each client's client organization has %d partners (invitations accepted), %d pending invitations to other clients' subcontractors "+
		"and %d activated collaborators besides its owner; its subcontractor organization has %d pending invitations received", cfg.querySeed, pending, collaborators, pending)
	fmt.Fprintf(log, "query phase: seeding (%s)\n", seed)
	began := time.Now()
	if err := each(clients, func(c *client) error { return seedQueries(ctx, c, clients, cfg.querySeed, pending, collaborators) }); err != nil {
		return fmt.Errorf("query phase: seed: %w", err)
	}
	fmt.Fprintf(log, "query phase: seeded in %.1f s\n", time.Since(began).Seconds())

	pool, err := openPool(ctx, svc.DBURL, int32(n+2))
	if err != nil {
		return err
	}
	defer pool.Close()
	keys, err := eventstore.NewKeyring(eventstore.DevelopmentDataKey)
	if err != nil {
		return err
	}
	store := eventstore.New(pool, keys, nil)
	reader := projections.Reader{Q: pool}
	tails, err := authTails(ctx, store, clients)
	if err != nil {
		return fmt.Errorf("query phase: authorization reads (with the development data key, as the started service uses): %w", err)
	}

	qr := &QueryReport{Clients: n, Rounds: cfg.rounds, Seed: seed,
		What: "HTTP: each client sends the query as the queries story does (its own organizations, min_position of its last write), nothing else in the window. " +
			"Ceiling, read-model SQL: the handler's projections.Reader calls (the received list reads the organization first, as the handler does) on a plain pgx pool " +
			"of the service's database (clients + 2 connections), one worker per client, the same organizations. Ceiling + authorization: the same, after the organization stream's " +
			"tail read the service's membership check makes (eventstore ReadStreamAfter from the version its fold holds, with the destroyed-key check)."}
	rep.Queries = qr // what is measured so far, also if a later window fails
	per := cfg.queryDuration / time.Duration(cfg.rounds)
	warm := cfg.queryWarmup
	for _, ep := range queryEndpoints {
		qe := QueryEndpoint{Endpoint: ep.name}
		if qe.Rows, err = sameRows(ctx, ep, clients, reader); err != nil {
			qe.Mismatch = err.Error()
			rep.Notes = append(rep.Notes, "query phase: "+err.Error())
		}
		var hs, ss, as []*ceilingRun
		for r := 0; r < cfg.rounds; r++ {
			fmt.Fprintf(log, "query %s, round %d/%d: HTTP, read-model SQL, SQL + authorization read; %d clients, %s each\n", ep.name, r+1, cfg.rounds, n, per)
			h := timed(ctx, n, warm, per, func(_ context.Context, i int) (func(context.Context) error, func(), error) {
				c := clients[i]
				return func(ctx context.Context) error { _, err := ep.http(ctx, c); return err }, nil, nil
			})
			s := timed(ctx, n, warm, per, func(_ context.Context, i int) (func(context.Context) error, func(), error) {
				org := id(ep.org(clients[i].world))
				return func(ctx context.Context) error { _, err := ep.sql(ctx, reader, org); return err }, nil, nil
			})
			a := timed(ctx, n, warm, per, func(_ context.Context, i int) (func(context.Context) error, func(), error) {
				org := id(ep.org(clients[i].world))
				t := tails[org]
				return func(ctx context.Context) error {
					if _, err := store.ReadStreamAfter(ctx, t.stream, t.version, t.keys); err != nil {
						return err
					}
					_, err := ep.sql(ctx, reader, org)
					return err
				}, nil, nil
			})
			if err := ctx.Err(); err != nil {
				return err
			}
			hs, ss, as = append(hs, h), append(ss, s), append(as, a)
			qe.PerRound = append(qe.PerRound, QueryRound{HTTPPerSecond: perSecond(h), SQLPerSecond: perSecond(s), SQLAuthPerSecond: perSecond(a)})
			fmt.Fprintf(log, "  HTTP %.0f/s, read-model SQL %.0f/s, + authorization %.0f/s\n", perSecond(h), perSecond(s), perSecond(a))
		}
		var hw time.Duration
		qe.HTTP, hw, qe.HTTPErrors = mergeRuns(hs)
		qe.SQL, _, qe.SQLErrors = mergeRuns(ss)
		qe.SQLAuth, _, qe.SQLAuthErrors = mergeRuns(as)
		qr.Seconds = round2(hw.Seconds())
		if qe.SQL.Rate > 0 {
			qe.Ratio = qe.HTTP.Rate / qe.SQL.Rate
		}
		if qe.SQLAuth.Rate > 0 {
			qe.RatioAuth = qe.HTTP.Rate / qe.SQLAuth.Rate
		}
		for k, runs := range [][]*ceilingRun{hs, ss, as} {
			for _, r := range runs {
				if r.first != nil {
					side := []string{"HTTP", "read-model SQL", "SQL + authorization"}[k]
					rep.Notes = append(rep.Notes, fmt.Sprintf("query %s, %s: %d errors, the first: %v", ep.name, side, r.errors, r.first))
					break
				}
			}
		}
		qr.Endpoints = append(qr.Endpoints, qe)
	}
	return nil
}

// each runs f for every client at once and joins their errors.
func each(clients []*client, f func(c *client) error) error {
	var wg sync.WaitGroup
	errs := make([]error, len(clients))
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(c)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// seedQueries gives a client's organizations what the four queries list:
// partners (invitations accepted), pending invitations to the next clients'
// subcontractor owners (so each subcontractor organization receives as
// many), and collaborators.
func seedQueries(ctx context.Context, c *client, all []*client, partners, pending, collaborators int) error {
	for k := 0; k < partners; k++ {
		if err := scenarioInviteAccept(ctx, c); err != nil {
			return err
		}
	}
	for k := 1; k <= pending; k++ {
		other := all[(c.id+k)%len(all)].world
		if _, _, err := invite(ctx, c, other.subOwner.Email); err != nil {
			return err
		}
	}
	for k := 0; k < collaborators; k++ {
		if _, err := addCollaborator(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// authTails reads every client organization's stream as the service's
// folds hold it after one request: its version and the data keys that
// opened something (app.folds).
func authTails(ctx context.Context, store *eventstore.Store, clients []*client) (map[uuid.UUID]authTail, error) {
	out := map[uuid.UUID]authTail{}
	for _, c := range clients {
		for _, org := range []uuid.UUID{id(c.world.home), id(c.world.sub)} {
			stream := domain.OrganizationStream(org)
			tail, err := store.ReadStreamAfter(ctx, stream, 0, nil)
			if err != nil {
				return nil, err
			}
			if len(tail.Events) == 0 {
				return nil, fmt.Errorf("organization %s has no events", org)
			}
			out[org] = authTail{stream: stream, version: tail.Version, keys: tail.Keys}
		}
	}
	return out, nil
}

// sameRows checks, for every client, that the HTTP answer holds as many
// items as the ceiling's read of the same organization, and returns the
// mean rows per answer.
func sameRows(ctx context.Context, ep queryEndpoint, clients []*client, r projections.Reader) (float64, error) {
	total := 0
	var errs []error
	for i, c := range clients {
		resp, err := ep.http(ctx, c)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		list, err := decode[struct {
			Items []struct{} `json:"items"`
		}](resp, ep.name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rows, err := ep.sql(ctx, r, id(ep.org(c.world)))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if rows != len(list.Items) {
			errs = append(errs, fmt.Errorf("%s, client %d: the service answered %d items, the ceiling's read %d rows", ep.name, i, len(list.Items), rows))
		}
		total += rows
	}
	return round2(float64(total) / float64(len(clients))), errors.Join(errs...)
}

func perSecond(r *ceilingRun) float64 {
	if r.window <= 0 {
		return 0
	}
	return round2(float64(len(r.tx)) / r.window.Seconds())
}

// mergeRuns summarizes runs of one side over their summed windows.
func mergeRuns(runs []*ceilingRun) (Latency, time.Duration, int) {
	var all []time.Duration
	var window time.Duration
	errs := 0
	for _, r := range runs {
		all = append(all, r.tx...)
		window += r.window
		errs += r.errors
	}
	return summarize(all, window), window, errs
}
