package config

// suggest returns the candidate closest to a misspelt key, or "" when none
// is close enough to be a plausible typo.
func suggest(key string, candidates []string) string {
	best, bestDist := "", len(key)/3+1
	if bestDist > 3 {
		bestDist = 3
	}
	for _, c := range candidates {
		if d := editDistance(key, c); d <= bestDist && (best == "" || d < editDistance(key, best)) {
			best = c
		}
	}
	return best
}

// editDistance is the optimal string alignment distance: Levenshtein plus
// transpositions, since "scheudle" is the typo people actually make.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30 // no key is that long; skip the quadratic work
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
