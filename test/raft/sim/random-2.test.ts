import { defineRandomSuite } from './random-suite'

defineRandomSuite(1, 2)
