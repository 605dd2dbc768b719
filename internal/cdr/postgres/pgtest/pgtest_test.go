package pgtest

import "testing"

func TestWithDatabase(t *testing.T) {
	for _, tc := range []struct{ dsn, want string }{
		{"host=127.0.0.1 port=5432 user=postgres dbname=postgres", "host=127.0.0.1 port=5432 user=postgres dbname=postgres dbname=t1"},
		{"host=/run/postgresql", "host=/run/postgresql dbname=t1"},
		{"postgres://u:p@db:5432/postgres?sslmode=disable", "postgres://u:p@db:5432/t1?sslmode=disable"},
		{"postgresql://db", "postgresql://db/t1"},
	} {
		got, err := withDatabase(tc.dsn, "t1")
		if err != nil || got != tc.want {
			t.Errorf("withDatabase(%q) = %q, %v; want %q", tc.dsn, got, err, tc.want)
		}
	}
	if _, err := withDatabase("postgres://%zz", "t1"); err == nil {
		t.Error("a malformed URL was accepted")
	}
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ dsn, want string }{
		{"postgres://u:secret@db/x", "postgres://u:xxx@db/x"},
		{"postgres://u@db/x", "postgres://u@db/x"},
		{"host=db user=u password=secret dbname=x", "host=db user=u password=xxx dbname=x"},
	} {
		if got := redact(tc.dsn); got != tc.want {
			t.Errorf("redact(%q) = %q, want %q", tc.dsn, got, tc.want)
		}
	}
}
