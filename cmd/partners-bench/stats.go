package main

import (
	"math"
	"slices"
	"sort"
	"time"
)

// samples keeps every latency of one endpoint (a run of a minute at a few
// thousand requests per second is a few hundred thousand durations: a few
// megabytes, and exact percentiles instead of a histogram's buckets).
type samples struct {
	ok       []time.Duration // 2xx answers
	other    []time.Duration // every other answer (counted apart)
	statuses map[int]int     // non-2xx status counts; 0 is a transport error
}

// recorder is one client's measurements, merged at the end so the hot path
// takes no lock.
type recorder struct {
	eps map[string]*samples
	// win, when set, keeps only requests that started inside it.
	win *window
}

func newRecorder() *recorder { return &recorder{eps: map[string]*samples{}} }

// add keeps one answer; a client without a recorder keeps nothing (the
// query phase times its calls itself).
func (r *recorder) add(endpoint string, status int, start time.Time, d time.Duration) {
	if r == nil || (r.win != nil && !r.win.in(start)) {
		return
	}
	s := r.eps[endpoint]
	if s == nil {
		s = &samples{statuses: map[int]int{}}
		r.eps[endpoint] = s
	}
	if status >= 200 && status < 300 {
		s.ok = append(s.ok, d)
		return
	}
	s.other = append(s.other, d)
	s.statuses[status]++
}

func (r *recorder) merge(o *recorder) {
	for name, s := range o.eps {
		m := r.eps[name]
		if m == nil {
			m = &samples{statuses: map[int]int{}}
			r.eps[name] = m
		}
		m.ok = append(m.ok, s.ok...)
		m.other = append(m.other, s.other...)
		for k, v := range s.statuses {
			m.statuses[k] += v
		}
	}
}

// Latency is a summary of durations, in milliseconds.
type Latency struct {
	Count int     `json:"count"`
	Rate  float64 `json:"per_second"`
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
	Mean  float64 `json:"mean_ms"`
}

// summarize computes exact nearest-rank percentiles over a window.
func summarize(ds []time.Duration, window time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	l := Latency{
		Count: len(s),
		P50:   ms(pct(s, 0.50)),
		P95:   ms(pct(s, 0.95)),
		P99:   ms(pct(s, 0.99)),
		Max:   ms(s[len(s)-1]),
		Mean:  ms(sum / time.Duration(len(s))),
	}
	if window > 0 {
		l.Rate = float64(len(s)) / window.Seconds()
	}
	return l
}

// pct is the nearest-rank percentile of sorted durations.
func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())/10) / 100 }

// Endpoint is one endpoint's figures in a report.
type Endpoint struct {
	Name string `json:"endpoint"`
	Latency
	// Errors counts answers outside 2xx by status ("0" is a transport error).
	Errors map[int]int `json:"errors,omitempty"`
}

// endpoints summarizes a merged recorder, sorted by name.
func (r *recorder) endpoints(window time.Duration) []Endpoint {
	var out []Endpoint
	for name, s := range r.eps {
		e := Endpoint{Name: name, Latency: summarize(s.ok, window)}
		if len(s.statuses) > 0 {
			e.Errors = map[int]int{}
			for k, v := range s.statuses {
				e.Errors[k] = v
			}
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// where merges the 2xx samples of the endpoints name selects.
func (r *recorder) where(sel func(name string) bool) []time.Duration {
	var all []time.Duration
	for name, s := range r.eps {
		if sel(name) {
			all = append(all, s.ok...)
		}
	}
	return all
}

// isCommand tells a command endpoint ("POST /v1/...") from a query.
func isCommand(endpoint string) bool {
	for _, m := range []string{"POST ", "PUT ", "PATCH ", "DELETE "} {
		if len(endpoint) > len(m) && endpoint[:len(m)] == m {
			return true
		}
	}
	return false
}
