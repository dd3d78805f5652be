package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// CacheGet returns the cached response stored under key.
func (s *Store) CacheGet(ctx context.Context, key string) ([]byte, bool, error) {
	var v []byte
	err := s.db.QueryRowContext(ctx, s.rebind(`SELECT value FROM response_cache WHERE key = ?`), key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading the response cache: %w", err)
	}
	return v, true, nil
}

// CacheGetMany returns the cached responses of those keys the cache holds,
// with one query per 500 keys: a re-run answered from the cache then costs a
// few queries, not one per request.
func (s *Store) CacheGetMany(ctx context.Context, keys []string) (map[string][]byte, error) {
	const chunk = 500
	vals := make(map[string][]byte, len(keys))
	for start := 0; start < len(keys); start += chunk {
		part := keys[start:min(start+chunk, len(keys))]
		q := `SELECT key, value FROM response_cache WHERE key IN (?` + strings.Repeat(`, ?`, len(part)-1) + `)`
		args := make([]any, len(part))
		for i, k := range part {
			args[i] = k
		}
		rows, err := s.db.QueryContext(ctx, s.rebind(q), args...)
		if err != nil {
			return nil, fmt.Errorf("reading the response cache: %w", err)
		}
		for rows.Next() {
			var k string
			var v []byte
			if err := rows.Scan(&k, &v); err != nil {
				rows.Close()
				return nil, fmt.Errorf("reading the response cache: %w", err)
			}
			vals[k] = v
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("reading the response cache: %w", err)
		}
	}
	return vals, nil
}

// CachePut stores val under key, replacing what was there.
func (s *Store) CachePut(ctx context.Context, key string, val []byte) error {
	_, err := s.db.ExecContext(ctx, s.rebind(cachePut), key, nonNil(val), s.now().UnixNano())
	if err != nil {
		return fmt.Errorf("writing the response cache: %w", err)
	}
	return nil
}

const cachePut = `INSERT INTO response_cache (key, value, created_at) VALUES (?, ?, ?)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, created_at = excluded.created_at`

// nonNil keeps an empty value from becoming NULL, which the column refuses.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
