package pii

import (
	"slices"
	"strings"
	"testing"
)

func TestLuhn(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"4111111111111111", true},
		{"4111111111111112", false},
		{"378282246310005", true},
		{"79927398713", true},
		{"79927398710", false},
	} {
		if got := luhn([]byte(c.in)); got != c.want {
			t.Errorf("luhn(%s) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestIBANMod97(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"DE89370400440532013000", true},
		{"DE88370400440532013000", false},
		{"GB82WEST12345698765432", true},
		{"FR1420041010050500013M02606", true},
		{"NL91ABNA0417164300", true},
		{"NO9386011117947", true},
		{"GB82WEST1234569876543", false},
	} {
		if got := ibanMod97([]byte(c.in)); got != c.want {
			t.Errorf("ibanMod97(%s) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestFindOffsets(t *testing.T) {
	text := "Mail jane+news@example.co.uk or call +1 (415) 555-2671; card 4111 1111 1111 1111."
	got := Find(text)
	want := []Match{
		{Email, 5, 28, "jane+news@example.co.uk", true},
		{Phone, 37, 54, "+1 (415) 555-2671", true},
		{Card, 61, 80, "4111 1111 1111 1111", true},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Find:\n got %+v\nwant %+v", got, want)
	}
	for _, m := range got {
		if text[m.Start:m.End] != m.Text {
			t.Errorf("%v: Text %q is not text[Start:End] %q", m.Kind, m.Text, text[m.Start:m.End])
		}
	}
}

func TestMask(t *testing.T) {
	text := "to: bob@example.org, ssn 536-22-1234, ip 10.0.0.1\n"
	for _, c := range []struct {
		kinds []Kind
		want  string
	}{
		{nil, "to: [EMAIL], ssn [SSN], ip [IP]\n"},
		{[]Kind{SSN}, "to: bob@example.org, ssn [SSN], ip 10.0.0.1\n"},
		{[]Kind{Email, IP}, "to: [EMAIL], ssn 536-22-1234, ip [IP]\n"},
	} {
		got := Mask(text, c.kinds...)
		if got != c.want {
			t.Errorf("Mask(%v) = %q, want %q", c.kinds, got, c.want)
		}
		if again := Mask(got, c.kinds...); again != got {
			t.Errorf("Mask(%v) not idempotent: %q then %q", c.kinds, got, again)
		}
	}
	// Invalid checksums are not masked.
	if got := Mask("card 4111 1111 1111 1112"); got != "card 4111 1111 1111 1112" {
		t.Errorf("Mask masked a Luhn-invalid card: %q", got)
	}
	// Text with nothing to mask comes back unchanged (the same string).
	if s := "nothing here 1.2.3"; Mask(s) != s {
		t.Errorf("Mask changed %q", s)
	}
}

func TestHelpers(t *testing.T) {
	texts := []string{
		"reach me at a.b@example.com or a.c@example.com",
		"no personal data",
		"key AKIAIOSFODNN7EXAMPLE",
		"card 4111 1111 1111 1112 (typo)",
	}
	if !HasPII(texts[0]) || HasPII(texts[1]) || HasPII(texts[3]) {
		t.Error("HasPII wrong on the basic texts")
	}
	if HasPII(texts[2], Email) || !HasPII(texts[2], AWSKey) {
		t.Error("HasPII ignores kinds")
	}
	if got := Counts(texts[0]); len(got) != 1 || got[Email] != 2 {
		t.Errorf("Counts = %v, want EMAIL:2", got)
	}
	if got := Rate(texts); got != 0.5 {
		t.Errorf("Rate = %v, want 0.5", got)
	}
	if got := Rate(texts, Email); got != 0.25 {
		t.Errorf("Rate(email) = %v, want 0.25", got)
	}
	if Rate(nil) != 0 {
		t.Error("Rate(nil) != 0")
	}
}

func TestParseKind(t *testing.T) {
	for _, k := range Kinds() {
		got, err := ParseKind(strings.ToLower(string(k)))
		if err != nil || got != k {
			t.Errorf("ParseKind(%q) = %v, %v", strings.ToLower(string(k)), got, err)
		}
	}
	if _, err := ParseKind("passport"); err == nil || !strings.Contains(err.Error(), "email") {
		t.Errorf("ParseKind(passport) error = %v, want one listing the kinds", err)
	}
	if !AWSKey.Secret() || Email.Secret() || Card.Label() != "[CARD]" {
		t.Error("Secret or Label wrong")
	}
}

func TestOverlapLongestWins(t *testing.T) {
	// An IPv4-mapped IPv6 address holds an IPv4 address; the longer wins.
	got := Find("peer ::ffff:192.0.2.128 up")
	if len(got) != 1 || got[0].Text != "::ffff:192.0.2.128" {
		t.Fatalf("Find = %+v, want the one IPv6 match", got)
	}
	// A JWT's payload is not also reported as anything else.
	jwt := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
	got = Find("Authorization: Bearer " + jwt)
	if len(got) != 1 || got[0].Kind != JWT || got[0].Text != jwt {
		t.Fatalf("Find = %+v, want one JWT", got)
	}
}

func TestMaskFreesNeighbours(t *testing.T) {
	// The phone number is glued to the card number's run, so Find refuses it;
	// once the card is masked it stands alone and the second pass masks it.
	text := "order 4111 1111 1111 1111 020 7946 0958 ok"
	if got, want := Mask(text), "order [CARD] [PHONE] ok"; got != want {
		t.Errorf("Mask = %q, want %q", got, want)
	}
	if got, want := Mask(text, Phone), text; got != want {
		t.Errorf("Mask(Phone) = %q, want the text unchanged", got)
	}
}

func TestPrivateKeyInJSON(t *testing.T) {
	// A key pasted into a JSON string has escaped newlines; the block still
	// runs from BEGIN to its END line.
	key := `-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5\n-----END EC PRIVATE KEY-----`
	text := `{"key": "` + key + `", "n": 1}`
	got := Find(text)
	if len(got) != 1 || got[0].Kind != PrivateKey || got[0].Text != key {
		t.Fatalf("Find = %+v, want the whole key block", got)
	}
	if m := Mask(text); m != `{"key": "[PRIVATE_KEY]", "n": 1}` {
		t.Errorf("Mask = %q", m)
	}
}

func TestOverlapChain(t *testing.T) {
	// Each "@" yields an e-mail overlapping the next; both ways of settling
	// a cluster must keep the same matches.
	for _, text := range []string{
		"x" + strings.Repeat("@b.co", 40),
		strings.Repeat("a@b.co 1.1.1.1:", 30),
		"4111 1111 1111 1111 " + strings.Repeat("ab@cd.ef@", 25),
	} {
		var cands []Match
		cands = findSecrets(text, cands)
		cands = findEmails(text, cands)
		cands = findIBANs(text, cands)
		cands = findIPv6(text, cands)
		cands = findNumeric(text, cands)
		slices.SortFunc(cands, better)
		a, b := keepPairwise(cands), keepByteMap(cands)
		if !slices.Equal(a, b) {
			t.Errorf("%q: pairwise kept %d, byte map %d", text[:20], len(a), len(b))
		}
		checkInvariants(t, text, Find(text))
	}
}
