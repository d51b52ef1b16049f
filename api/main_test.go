package api_test

import (
	"testing"

	"partners/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
