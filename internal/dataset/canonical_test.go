package dataset

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"
)

// normalizeGo maps what the Parquet reader produces onto Row's value types.
func TestNormalizeGo(t *testing.T) {
	var nilPtr *int32
	seven := int32(7)
	tests := []struct {
		in   any
		want any
	}{
		{nil, nil},
		{true, true},
		{"s", "s"},
		{int8(-3), int64(-3)},
		{int16(300), int64(300)},
		{int32(-70000), int64(-70000)},
		{int(5), int64(5)},
		{uint8(255), int64(255)},
		{uint16(65535), int64(65535)},
		{uint32(4000000000), int64(4000000000)},
		{uint64(42), int64(42)},
		{uint64(math.MaxUint64), json.Number("18446744073709551615")},
		{float32(0.1), 0.1},
		{float32(2), int64(2)},
		{2.5, 2.5},
		{3.0, int64(3)},
		{[]byte("bytes"), "bytes"},
		{time.Date(2024, 5, 1, 12, 0, 0, 5, time.FixedZone("x", 3600)), "2024-05-01T11:00:00.000000005Z"},
		{[]int32{1, 2}, []any{int64(1), int64(2)}},
		{[]any{float32(0.5), "x"}, []any{0.5, "x"}},
		{map[string]int32{"a": 1}, map[string]any{"a": int64(1)}},
		{map[string]any{"b": []byte("y")}, map[string]any{"b": "y"}},
		{nilPtr, nil},
		{&seven, int64(7)},
	}
	for _, tt := range tests {
		got, err := normalizeGo(tt.in)
		if err != nil {
			t.Errorf("normalizeGo(%#v): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("normalizeGo(%#v) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
	for _, bad := range []any{math.NaN(), math.Inf(1), float32(math.Inf(-1)), struct{}{}, map[int]int{1: 1}, []any{math.NaN()}, map[string]any{"k": math.NaN()}} {
		if _, err := normalizeGo(bad); err == nil {
			t.Errorf("normalizeGo(%#v): no error", bad)
		}
	}
}

func TestNormalizeNumber(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{"12", int64(12)},
		{"-0", int64(0)},
		{"1.0", int64(1)},
		{"2e3", int64(2000)},
		{"0.25", 0.25},
		{"1e300", 1e300},
		{"9007199254740993.0", 9007199254740992.0},
		{"12345678901234567890", 12345678901234567890.0},
		{"1e400", json.Number("1e400")},
	}
	for _, tt := range tests {
		if got := normalizeNumber(json.Number(tt.in)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("normalizeNumber(%s) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}
