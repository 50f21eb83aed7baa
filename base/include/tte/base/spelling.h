// "Did you mean …?": the nearest of a set of known names to a misspelt one, for error
// messages about unknown flags, commands and configuration keys.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace tte {

/// The candidate closest to `word` by edit distance (insertions, deletions, substitutions and
/// swaps of neighbours count one each; a name that differs only in case is the closest), if it is close enough to be a slip:
/// at most 1 edit for names up to 4 characters, 2 up to 8, 3 beyond. `word` itself is never
/// suggested. Among equally close candidates the first wins.
std::optional<std::string> closestName(std::string_view word, std::span<const std::string> candidates);

/// " (did you mean 'X'?)" when closestName() finds X, "" otherwise.
std::string didYouMean(std::string_view word, std::span<const std::string> candidates);

}  // namespace tte
