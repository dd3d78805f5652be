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

// CacheHas reports which of keys the cache holds, with one query per 500 keys.
func (s *Store) CacheHas(ctx context.Context, keys []string) (map[string]bool, error) {
	const chunk = 500
	have := map[string]bool{}
	for start := 0; start < len(keys); start += chunk {
		part := keys[start:min(start+chunk, len(keys))]
		q := `SELECT key FROM response_cache WHERE key IN (?` + strings.Repeat(`, ?`, len(part)-1) + `)`
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
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return nil, fmt.Errorf("reading the response cache: %w", err)
			}
			have[k] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("reading the response cache: %w", err)
		}
	}
	return have, nil
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
