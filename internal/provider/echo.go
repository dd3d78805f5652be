package provider

// EchoCheck is what one scoring request with echo=true found: whether the
// endpoint returns logprobs for the prompt tokens, and if not, what it did.
type EchoCheck struct {
	Supported bool `json:"supported"`
	// Behaviour says what the server did when unsupported: it refused echo
	// (an HTTP error), or ignored it (logprobs for generated tokens only).
	Behaviour string `json:"behaviour,omitempty"`
	// Detail is the server's answer, as an error message.
	Detail string `json:"detail,omitempty"`
}

// What EchoCheck.Behaviour says.
const (
	EchoRefused = "refused"
	EchoIgnored = "ignored"
)
