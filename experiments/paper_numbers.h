// The numbers the paper reports, transcribed from its text (seed/000_3e0f84fec838fa98.txt, Tables 1-6), so every
// table this engine writes can show them beside its own. Figure 1 gives no numbers in the text (bars only), so
// it has none here. Accuracies are in %, times in minutes (GTX 1080 Ti), speed-ups in %.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace bts::experiments {

struct PaperEntry {
  std::string table;     // "table1" .. "table6"
  std::string dataset;   // cifar10, cifar100, svhn, miniimagenet
  std::string augment;   // standard, randaugment, mixup, ricap
  std::string schedule;  // step, linear, or "*" where the paper does not say
  std::string method;    // sgd, scan-sgd, unif-sgd, p-sgd, c-sgd, sb, osgd
  std::string budget;    // as written: "0.3", "1"
  std::string metric;    // accuracy, minutes, speedup
  double mean = 0;
  std::optional<double> std;  // absent where the paper gives none
};

struct PaperQuery {
  std::string table, dataset, augment = "standard", schedule, method, budget, metric = "accuracy";
};

const std::vector<PaperEntry>& paper_entries();

// The entry matching every field of q ("*" in an entry's schedule matches any); nullopt when the paper has none.
std::optional<PaperEntry> paper_value(const PaperQuery& q);

}  // namespace bts::experiments
