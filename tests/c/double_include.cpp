// The header must compile as C++ and survive being included twice.
#include "gaia.h"
#include "gaia.h"
#include <cstdio>

int main() {
  gaia_bandit *b = nullptr;
  gaia_status s = gaia_bandit_new("{\"arms\":[\"a\"],\"seed\":1}", &b);
  std::size_t i = 9;
  if (s == GAIA_OK) s = gaia_bandit_choose(b, &i);
  gaia_bandit_free(b);
  std::printf("test_cxx: %d passed, %d failed\n", s == GAIA_OK && i == 0 ? 1 : 0, s == GAIA_OK && i == 0 ? 0 : 1);
  return s == GAIA_OK && i == 0 ? 0 : 1;
}
