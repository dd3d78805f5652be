package dataset

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"
)

// canonicalRow is the row as compact JSON with keys sorted by code point (the
// order encoding/json uses for maps), no HTML escaping, integers as integers
// and other numbers in their shortest round-trip form. Two rows that hold the
// same data encode to the same bytes whatever their source formatting.
func canonicalRow(fields map[string]any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	// Values come from our own normalisation, so encoding cannot fail.
	if err := enc.Encode(fields); err != nil {
		panic(fmt.Sprintf("dataset: canonical encoding: %v", err))
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})
}

// CanonicalJSON is the canonical encoding used for ids and fingerprints, for
// callers that need to hash rows the same way.
func CanonicalJSON(fields map[string]any) []byte { return canonicalRow(fields) }

// normalize turns decoded JSON (with json.Number) into the value types Row
// documents: integral numbers become int64, others float64; an integer too
// large for int64 stays a json.Number so that no digit is lost.
func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		return normalizeNumber(x)
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
		return x
	}
	return v
}

func normalizeNumber(n json.Number) any {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		// Digits beyond float64's range: keep the text.
		return n
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		// 1.0 and 1 are the same number; keep one canonical form.
		return int64(f)
	}
	return f
}

// normalizeGo turns values produced by the Parquet reader (sized ints,
// float32, []byte, time.Time, typed slices and maps) into Row's value types.
func normalizeGo(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, string, int64:
		return x, nil
	case float64:
		return normalizeFloat(x)
	case int:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case uint8:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint64:
		if x > math.MaxInt64 {
			return json.Number(strconv.FormatUint(x, 10)), nil
		}
		return int64(x), nil
	case float32:
		// Through the decimal text, so 0.1f reads as 0.1 and not 0.100000001.
		f, _ := strconv.ParseFloat(strconv.FormatFloat(float64(x), 'g', -1, 32), 64)
		return normalizeFloat(f)
	case []byte:
		return string(x), nil
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano), nil
	case map[string]any:
		for k, e := range x {
			n, err := normalizeGo(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			x[k] = n
		}
		return x, nil
	case []any:
		for i, e := range x {
			n, err := normalizeGo(e)
			if err != nil {
				return nil, err
			}
			x[i] = n
		}
		return x, nil
	}
	// Typed lists and maps (e.g. []int32 from a repeated column).
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		out := make([]any, rv.Len())
		for i := range out {
			n, err := normalizeGo(rv.Index(i).Interface())
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			break
		}
		out := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			n, err := normalizeGo(it.Value().Interface())
			if err != nil {
				return nil, fmt.Errorf("%s: %w", it.Key().String(), err)
			}
			out[it.Key().String()] = n
		}
		return out, nil
	case reflect.Pointer:
		if rv.IsNil() {
			return nil, nil
		}
		return normalizeGo(rv.Elem().Interface())
	}
	return nil, fmt.Errorf("unsupported value of type %T", v)
}

func normalizeFloat(f float64) (any, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("%v has no JSON form", f)
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int64(f), nil
	}
	return f, nil
}
