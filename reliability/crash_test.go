//go:build reliability

package reliability_test

import (
	"context"
	"testing"
	"time"

	"partners/internal/pgtest"
	"partners/notify/mail/mailtest"
)

// Issue 8, point 1: under load, the service is killed with SIGKILL and
// restarted several times. Afterwards every acknowledged command has its
// events, the read models equal a replay (`partners verify`), every due
// email arrived, and duplicates are no more than the kills (each kill can
// fall between the SMTP server's acceptance and the sent mark of at most
// the one email the single sender was sending).
func TestCrashUnderLoad(t *testing.T) {
	const kills = 4
	ctx := context.Background()
	dbURL, drop, err := pgtest.Create(ctx, "reliability_crash")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	pool := openPool(t, dbURL)
	smtp := mailtest.NewServer(t)
	svc := newService(t, "partners", dbURL, smtp.URL)
	svc.Start(t)
	t.Logf("ready in %s", svc.WaitReady(t, time.Minute).Round(time.Millisecond))

	d := newDriver(t, svc.URL)
	load, stopLoad := context.WithTimeout(ctx, 90*time.Second)
	loadDone := make(chan struct{})
	go func() { defer close(loadDone); d.Run(load, 6, 1<<30) }()
	t.Cleanup(func() { stopLoad(); <-loadDone })

	loadStart := time.Now()
	var downtimes []time.Duration
	for i := 0; i < kills; i++ {
		time.Sleep(jitter(2 * time.Second))
		svc.Kill(t)
		killed := time.Now()
		svc.Start(t)
		svc.WaitReady(t, time.Minute)
		downtimes = append(downtimes, time.Since(killed).Round(time.Millisecond))
	}
	time.Sleep(2 * time.Second)
	stopLoad()
	<-loadDone
	t.Logf("load ran %s with %d SIGKILLs; down (kill to ready) %v", time.Since(loadStart).Round(time.Millisecond), kills, downtimes)
	t.Logf("driver: %s", d.Summary())
	d.Check(t)

	caught := waitCaughtUp(t, svc.URL, time.Minute)
	f := loadStore(t, pool)
	acks := d.Acks()
	t.Logf("store: %d events %v; read models caught up %s after the load", f.Events, f.ByType, caught.Round(time.Millisecond))
	checkAcked(t, acks, f)
	verify(t, svc, pool)

	m := waitMail(t, pool, smtp, time.Minute)
	t.Logf("mail: %s", m)
	if m.Duplicates > 0 {
		t.Logf("%d duplicate email(s) after %d kills: a kill fell between the SMTP server's acceptance and the sent mark", m.Duplicates, kills)
	}
	checkMail(t, m, kills)

	svc.Stop(t)
	if n, msgs := svc.LogLines("ERROR"); n > 0 {
		t.Logf("service logged %d error line(s) over %d starts, e.g. %q", n, svc.starts, msgs)
	}
}
