package judge

import (
	"strconv"

	"github.com/tunecheck/tunecheck/internal/pyrand"
)

// winRateSwitched is AlpacaEval's RandomSwitchTwoColumnsProcessor decision:
// random_seeded_choice(seed="is_switched_outputs" + instruction + str(seed),
// choices=[False, True]), i.e. choices[floor(random() * 2)].
func winRateSwitched(instruction string, seed int) bool {
	r := pyrand.NewString("is_switched_outputs" + instruction + strconv.Itoa(seed))
	return int(r.Random()*2) == 1
}
