"""The subsidy service: the printed dossier, filing, calculation, payment and reclaim."""
