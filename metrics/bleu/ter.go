package bleu
